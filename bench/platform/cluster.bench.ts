/**
 * WEB_CONCURRENCY: Tetrad's authenticated near-empty route (GET /api/v1/whoami, client key) served by
 * src/main.ts as N cluster processes (full profile), against a bare Fastify route in N cluster
 * processes, in the same run. Needs the full profile's PostgreSQL, Redis and Kafka on 127.0.0.1.
 *   npx ts-node --transpile-only bench/platform/cluster.bench.ts [seconds=10] [connections=50] [processes=1,2]
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../test/support/processes';
import { autocannon } from '../support/autocannon';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const counts = (process.argv[4] ?? '1,2').split(',').map(Number);
const root = join(__dirname, '../..');
const KEY = 'bench-client-key';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(args: string[], env: Record<string, string>, port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: 'inherit' });
  await waitForPort(port, 120_000);
  // Every worker boots at once; the port opens with the first. Give the rest time to join.
  await sleep(15_000);
  return proc;
}

async function stop(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

async function main() {
  const rows = [];
  for (const n of counts) {
    const barePort = await freePort();
    const bare = await serve([join(__dirname, 'bare-cluster.js'), String(n), String(barePort)], {}, barePort);
    await autocannon(`http://127.0.0.1:${barePort}/bench`, { connections, seconds: 2 });
    const baseline = await autocannon(`http://127.0.0.1:${barePort}/bench`, { connections, seconds });
    await stop(bare);

    const appPort = await freePort();
    const app = await serve(['-r', 'ts-node/register/transpile-only', join(root, 'src/main.ts')], {
      APP_PROFILE: 'full',
      APP_ROLES: 'api',
      APP_MODULES: 'leaderboard',
      HOST: '127.0.0.1',
      NAMESPACE: `bench-${randomBytes(3).toString('hex')}`,
      LOG_LEVEL: 'warn',
      DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      API_KEYS: `client:${KEY}`,
      RATE_LIMIT_PER_SECOND: '0',
      RATE_LIMIT_PER_IP_PER_SECOND: '0',
      WEB_CONCURRENCY: String(n),
    }, appPort);
    const headers = { 'x-api-key': KEY };
    await autocannon(`http://127.0.0.1:${appPort}/api/v1/whoami`, { connections, seconds: 2, headers });
    const tetrad = await autocannon(`http://127.0.0.1:${appPort}/api/v1/whoami`, { connections, seconds, headers });
    await stop(app);
    rows.push({ processes: n, baseline, tetrad, ratio: +(tetrad.rps / baseline.rps).toFixed(3) });
  }
  console.log(JSON.stringify({ seconds, connections, rows }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
