import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { until } from '../support/app';
import { AppProcess } from '../support/processes';
import { TEST_SERVICES } from '../support/services';

const KEY = 'cluster-admin-key';

/** One request on a fresh connection (no keep-alive), so the cluster may hand it to any worker. */
function whoami(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`${url}/api/v1/whoami`, { agent: false, headers: { 'x-api-key': KEY } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('WEB_CONCURRENCY (full profile, src/main.ts as a process)', () => {
  let app: AppProcess | undefined;
  afterAll(async () => {
    await app?.kill('SIGKILL');
  });

  it('serves from two worker processes on one port, and SIGTERM stops them all within the shutdown timeout', async () => {
    app = await new AppProcess({
      APP_PROFILE: 'full',
      APP_ROLES: 'api',
      APP_MODULES: 'ticketing',
      HOST: '127.0.0.1',
      NAMESPACE: `cluster-${randomBytes(3).toString('hex')}`,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATA_DIR: 'memory',
      ...TEST_SERVICES,
      API_KEYS: `admin:${KEY}`,
      RATE_LIMIT_PER_SECOND: '0',
      SHUTDOWN_TIMEOUT_MS: '5000',
      WEB_CONCURRENCY: '2',
    }).start();
    const url = app.url;

    // Each access-log line carries the pid of the process that answered it.
    const servingPids = () =>
      new Set(
        app!.output
          .split('\n')
          .filter((l) => l.includes('"msg":"request"') && l.includes('/api/v1/whoami'))
          .map((l) => JSON.parse(l).pid as number),
      );
    await until(async () => {
      expect(await whoami(url)).toBe(200);
      return servingPids().size >= 2;
    }, 60_000);
    const pids = [...servingPids()];
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(app.proc.pid);
    expect(app.output).toContain('starting 2 API processes');

    const code = await app.kill('SIGTERM');
    expect(code).toBe(0);
    // The primary exits only after every worker has; none is left behind.
    expect(pids.filter(isAlive)).toEqual([]);
  }, 120_000);
});
