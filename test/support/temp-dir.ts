import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh DATA_DIR-like folder under the system temp dir, removed by `remove()`. */
export function tempDataDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'tetrad-data-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
