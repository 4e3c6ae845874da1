import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function waitForPort(port: number, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = createConnection({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** A private redis-server a test may stop and restart without disturbing anyone else's. */
export class PrivateRedis {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'tetrad-redis-'));

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}

/** True while a process with this pid exists and is not a zombie awaiting its reaper. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no procfs: signal 0 is the best we know
  }
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * The real application as its own OS process (src/main.ts under ts-node), so a test can SIGKILL it
 * mid-stream and start another. Keeps the last 20 kB of its output for failure messages.
 */
export class AppProcess {
  proc!: ChildProcess;
  port = 0;
  output = '';
  exited!: Promise<NodeJS.Signals | number | null>;

  constructor(private readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * `timeoutMs`: how long to wait for the port (a first boot on a fresh DATA_DIR runs PGlite's initdb).
   * `port`: the port to listen on (0: one the OS picks now).
   */
  async start(timeoutMs = 60_000, port = 0): Promise<this> {
    const root = join(__dirname, '../..');
    this.port = port || (await freePort());
    this.proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, 'src/main.ts')], {
      cwd: root,
      // One API process unless a test asks for more (WEB_CONCURRENCY defaults to the core count).
      env: { PATH: process.env.PATH, WEB_CONCURRENCY: '1', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d) => (this.output = (this.output + d).slice(-20_000)));
    this.proc.stderr!.on('data', (d) => (this.output = (this.output + d).slice(-20_000)));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(signal ?? code)));
    await Promise.race([
      waitForPort(this.port, timeoutMs),
      this.exited.then((c) => {
        throw new Error(`app exited (${String(c)}) before listening:\n${this.output}`);
      }),
    ]);
    return this;
  }

  async kill(signal: NodeJS.Signals): Promise<NodeJS.Signals | number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}
