import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../..');

/**
 * Browser builds cannot be downloaded here, so the suite drives Debian's chromium package,
 * installing it when missing (CI runs as root). Bounded: apt gets 5 minutes.
 */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  execSync('apt-get update && apt-get install -y --no-install-recommends chromium', { stdio: 'inherit', timeout: 300_000 });
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not at ${CHROMIUM} after apt-get install`);
}

/** Builds dist/console when it is missing or older than a file of src/console (esbuild: about a second). */
export function ensureConsoleBuilt(): void {
  const built = join(ROOT, 'dist/console/index.html');
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'src/console'))) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-console.js')], { stdio: 'inherit', timeout: 120_000 });
}

/**
 * Headless chromium with a fresh profile. The flags keep it off the network: on this closed
 * network Chromium otherwise hangs on background connection attempts (QUIC, component updates, sync).
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'tetrad-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
