import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitForPort } from '../support/processes';

describe('graceful lifecycle', () => {
  it('serves, then on SIGTERM stops and exits 0 within the shutdown timeout', async () => {
    const port = 16400 + Math.floor(Math.random() * 500);
    const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../../src/main.ts')], {
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: 'memory', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      await waitForPort(port, 45000);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      // The dev key is announced when API_KEYS is unset in the embedded profile.
      expect(output).toContain('dev-admin-key');
      const sent = Date.now();
      proc.kill('SIGTERM');
      const code = await exited;
      expect(code).toBe(0);
      expect(Date.now() - sent).toBeLessThan(10000);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 90000);
});
