/**
 * Flash sale: 20,000 distinct users race for (a) a 1,000-place general-admission event (quantity 1
 * each) and (b) a 1,000-seat reserved event (each user asks for one random seat), through the real
 * app over HTTP with bounded concurrency — once per hold strategy in the same run:
 *   redis    — the hot inventory decides in one Lua script; only winners reach SQL
 *   postgres — PostgreSQL row locks alone (one transaction per hold, SQL idempotency table)
 * Each strategy gets a fresh app process (bench/ticketing/flash-sale-app.ts); the load generator is
 * this process (node:http, keep-alive pool). Checks exactly 1,000 held, nothing oversold, the
 * counts add up and no seat handed out twice; reports holds/s, p50/p99 and the redis:postgres ratio.
 * A raw ioredis DECR loop on one key with the same concurrency gives the Redis ceiling (full only), and
 * the authenticated empty route and a hold-shaped POST answered by the platform alone (409, no
 * ticketing work) in the same app process, with the same load generator, the HTTP ones.
 *   npx ts-node --transpile-only bench/ticketing/flash-sale.bench.ts [embedded|full] [redis,postgres] [rounds]
 * With rounds > 1 the strategies alternate (redis, postgres, redis, ...) so a noisy neighbour on
 * the shared box hits both alike; the ratio is then the median of the per-round ratios.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each app process there (node --cpu-prof).
 */
import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import Redis from 'ioredis';

const profile = (process.argv[2] ?? 'full') as 'embedded' | 'full';
if (profile !== 'embedded' && profile !== 'full') throw new Error(`profile must be embedded or full, not ${profile}`);
const STRATEGIES = (process.argv[3] ?? 'redis,postgres').split(',') as ('redis' | 'postgres')[];
if (STRATEGIES.some((x) => x !== 'redis' && x !== 'postgres')) throw new Error(`strategies must be redis and/or postgres`);
const ROUNDS = Number(process.argv[4] ?? 1);
const USERS = 20_000;
const CAPACITY = 1_000;
const CONCURRENCY = 200;
const ADMIN = 'bench-admin-key';
const CLIENT = 'bench-client-key';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

function pct(sorted: number[], p: number) {
  if (sorted.length === 0) return 0;
  return +sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(2);
}

/** Runs n tasks with at most `concurrency` in flight; returns the wall time in ms. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return performance.now() - t0;
}

// node:http with a keep-alive pool: about half the client CPU of fetch (undici's WHATWG streams),
// which matters when the load generator shares the 2 cores with the app, Redis and PostgreSQL.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(base: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const url = new URL(base + path);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: {
          'x-api-key': key,
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function race(base: string, kind: 'ga' | 'seated') {
  const startsAt = new Date(Date.now() + 86_400_000).toISOString();
  const layout =
    kind === 'ga'
      ? { generalAdmission: { capacity: CAPACITY, price: 10 } }
      : { sections: [{ name: 'A', rows: 40, seatsPerRow: 25, price: 50 }] }; // 40 x 25 = 1,000 seats, ids A-<row>-<seat>
  const created = await call(base, 'POST', '/api/v1/events', ADMIN, { name: `flash-${kind}`, startsAt, maxPerUser: 1, ...layout });
  if (created.status !== 201) throw new Error(`create ${kind}: ${created.status} ${JSON.stringify(created.body)}`);
  const eventId: string = created.body.id;
  const run = randomBytes(3).toString('hex');

  const latencies: number[] = [];
  const winners: number[] = [];
  const statuses: Record<string, number> = {};
  const wonSeats: string[] = [];
  const otherSamples: unknown[] = [];
  const wallMs = await pool(USERS, CONCURRENCY, async (i) => {
    const body =
      kind === 'ga'
        ? { userId: `fan-${i}`, quantity: 1 }
        : { userId: `fan-${i}`, seatIds: [`A-${1 + Math.floor(Math.random() * 40)}-${1 + Math.floor(Math.random() * 25)}`] };
    const t0 = performance.now();
    let status: number;
    let resBody: any;
    try {
      ({ status, body: resBody } = await call(base, 'POST', `/api/v1/events/${eventId}/holds`, CLIENT, body, { 'idempotency-key': `fs-${run}-${i}` }));
    } catch (e) {
      status = 0;
      resBody = String(e);
    }
    latencies.push(performance.now() - t0);
    if (status === 201) winners.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 201) wonSeats.push(...((resBody?.seatIds as string[] | undefined) ?? []));
    else if (status !== 409 && otherSamples.length < 3) otherSamples.push({ status, body: resBody });
  });
  latencies.sort((a, b) => a - b);
  winners.sort((a, b) => a - b);

  const a = (await call(base, 'GET', `/api/v1/events/${eventId}/availability`, CLIENT)).body;
  const created201 = statuses['201'] ?? 0;
  const conflict409 = statuses['409'] ?? 0;
  const other = USERS - created201 - conflict409;
  const uniqueSeats = new Set(wonSeats).size;
  const checks = {
    exactly1000Held: a.held === CAPACITY && created201 === CAPACITY,
    oversold: Math.max(0, a.held + a.sold - a.capacity),
    countsAddUp: a.available + a.held + a.sold === a.capacity,
    duplicateSeats: wonSeats.length - uniqueSeats,
  };
  const ok = checks.exactly1000Held && checks.oversold === 0 && checks.countsAddUp && checks.duplicateSeats === 0 && other === 0;
  return {
    kind,
    requests: USERS,
    wallMs: Math.round(wallMs),
    holdsPerSec: Math.round(USERS / (wallMs / 1000)),
    latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: pct(latencies, 100) },
    winnersLatencyMs: { p50: pct(winners, 50), p99: pct(winners, 99) },
    statuses: { '201': created201, '409': conflict409, other },
    ...(otherSamples.length ? { otherSamples } : {}),
    availability: { capacity: a.capacity, available: a.available, held: a.held, sold: a.sold },
    ...(kind === 'seated' ? { seatsWon: wonSeats.length, distinctSeatsWon: uniqueSeats } : {}),
    checks,
    ok,
  };
}

/** redis-benchmark-like: DECR on one key, CONCURRENCY callers in flight, 20,000 ops, one connection. */
async function redisBaseline() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const key = `bench:flash:${randomBytes(4).toString('hex')}`;
  await redis.set(key, String(USERS));
  await pool(2000, CONCURRENCY, async () => void (await redis.decr(key))); // warm-up
  await redis.set(key, String(USERS));
  const latencies: number[] = [];
  const wallMs = await pool(USERS, CONCURRENCY, async () => {
    const t0 = performance.now();
    await redis.decr(key);
    latencies.push(performance.now() - t0);
  });
  const left = Number(await redis.get(key));
  await redis.del(key);
  await redis.quit();
  latencies.sort((a, b) => a - b);
  return {
    ops: USERS,
    wallMs: Math.round(wallMs),
    opsPerSec: Math.round(USERS / (wallMs / 1000)),
    latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
    finalValueOk: left === 0,
  };
}

/** Starts the app in a child process with the given hold strategy; resolves its base URL and a stopper. */
async function startApp(strategy: 'redis' | 'postgres') {
  const env = {
    ...process.env,
    APP_PROFILE: profile,
    APP_MODULES: 'ticketing',
    NAMESPACE: `bench-${strategy}-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: 'memory',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    REDIS_URL,
    KAFKA_BROKERS: process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092',
    API_KEYS: `admin:${ADMIN},client:${CLIENT}`,
    RATE_LIMIT_PER_SECOND: '0',
    TICKETING_HOLD_STRATEGY: strategy,
  };
  if (profile === 'full' && !env.DATABASE_URL.includes('test')) throw new Error('DATABASE_URL must point at a test database');
  const prof = process.env.BENCH_CPU_PROF;
  const child = fork(join(__dirname, 'flash-sale-app.ts'), [], {
    env,
    execArgv: ['-r', 'ts-node/register/transpile-only', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${strategy}-${profile}.cpuprofile`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send('close');
    });
  return { base: `http://127.0.0.1:${port}`, stop };
}

/**
 * Yardsticks in the same app process with the same load generator, USERS requests each: the
 * authenticated empty route (GET /api/v1/bench), and a hold-shaped POST answered 409 by the platform
 * alone (bench/ticketing/flash-sale-app.ts).
 */
async function yardstick(base: string, kind: 'empty' | 'shaped') {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const wallMs = await pool(USERS, CONCURRENCY, async (i) => {
    const t0 = performance.now();
    const { status } =
      kind === 'empty'
        ? await call(base, 'GET', '/api/v1/bench', CLIENT)
        : await call(base, 'POST', '/api/v1/bench/events/e1/holds', CLIENT, { userId: `fan-${i}`, quantity: 1 }, { 'idempotency-key': `y-${i}` });
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  latencies.sort((a, b) => a - b);
  const expected = kind === 'empty' ? '200' : '409';
  return { reqPerSec: Math.round(USERS / (wallMs / 1000)), latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) }, ok: statuses[expected] === USERS };
}

async function runStrategy(strategy: 'redis' | 'postgres') {
  const { base, stop } = await startApp(strategy);
  try {
    // Warm-up: a small event so JIT, pools and Lua script caches are hot before timing.
    const warm = await call(base, 'POST', '/api/v1/events', ADMIN, {
      name: 'warm',
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      generalAdmission: { capacity: 100, price: 1 },
    });
    await pool(1000, CONCURRENCY, async (i) => {
      await call(base, 'POST', `/api/v1/events/${warm.body.id}/holds`, CLIENT, { userId: `w-${i}`, quantity: 1 }, { 'idempotency-key': `w-${randomBytes(6).toString('hex')}` });
    });
    const empty = await yardstick(base, 'empty');
    const shaped = await yardstick(base, 'shaped');
    const ga = await race(base, 'ga');
    const seated = await race(base, 'seated');
    return { strategy, empty, shaped, ga, seated };
  } finally {
    await stop();
  }
}

async function main() {
  const runs: (Awaited<ReturnType<typeof runStrategy>> & { round: number })[] = [];
  for (let round = 1; round <= ROUNDS; round++) for (const s of STRATEGIES) runs.push({ round, ...(await runStrategy(s)) });

  let baseline: Awaited<ReturnType<typeof redisBaseline>> | { skipped: string };
  try {
    baseline = await redisBaseline();
  } catch (e) {
    baseline = { skipped: `redis not reachable at ${REDIS_URL}: ${(e as Error).message}` };
  }
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length === 0 ? null : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const ratios = (kind: 'ga' | 'seated') =>
    Array.from({ length: ROUNDS }, (_, i) => {
      const r = runs.find((x) => x.round === i + 1 && x.strategy === 'redis');
      const p = runs.find((x) => x.round === i + 1 && x.strategy === 'postgres');
      return r && p ? +(r[kind].holdsPerSec / p[kind].holdsPerSec).toFixed(2) : NaN;
    }).filter((x) => !Number.isNaN(x));
  const ratio = (kind: 'ga' | 'seated') => median(ratios(kind));
  const summary = {
    profile,
    node: process.version,
    users: USERS,
    capacity: CAPACITY,
    concurrency: CONCURRENCY,
    runs,
    redisToPostgresRatio: { ga: ratio('ga'), seated: ratio('seated'), perRound: { ga: ratios('ga'), seated: ratios('seated') } },
    redisDecrBaseline: baseline,
    ok: runs.every((r) => r.ga.ok && r.seated.ok),
  };
  console.log(JSON.stringify(summary, null, 2));
  const line = (r: (typeof runs)[number], k: 'ga' | 'seated') =>
    `#${r.round} ${r.strategy.padEnd(8)} ${k.padEnd(6)} ${String(r[k].holdsPerSec).padStart(6)} holds/s  p50 ${r[k].latencyMs.p50} ms  p99 ${r[k].latencyMs.p99} ms  201/409/other ${r[k].statuses['201']}/${r[k].statuses['409']}/${r[k].statuses.other}  (201s: p50 ${r[k].winnersLatencyMs.p50} p99 ${r[k].winnersLatencyMs.p99})  ok=${r[k].ok}`;
  const decr = 'opsPerSec' in baseline ? baseline.opsPerSec : NaN;
  const ratios2 = (r: (typeof runs)[number], k: 'ga' | 'seated') =>
    `           ${k.padEnd(6)} : empty route ${(r[k].holdsPerSec / r.empty.reqPerSec).toFixed(2)}   : hold-shaped 409 ${(r[k].holdsPerSec / r.shaped.reqPerSec).toFixed(2)}   : raw DECR ${(r[k].holdsPerSec / decr).toFixed(3)}`;
  for (const r of runs) {
    for (const [name, y] of [['empty ', r.empty], ['shaped', r.shaped]] as const) {
      console.log(`#${r.round} ${r.strategy.padEnd(8)} ${name} ${String(y.reqPerSec).padStart(6)} req/s    p50 ${y.latencyMs.p50} ms  p99 ${y.latencyMs.p99} ms  ok=${y.ok}`);
    }
    console.log(`${line(r, 'ga')}\n${line(r, 'seated')}\n${ratios2(r, 'ga')}\n${ratios2(r, 'seated')}`);
  }
  console.log(`redis:postgres (median of ${ROUNDS})  ga ${summary.redisToPostgresRatio.ga}x  seated ${summary.redisToPostgresRatio.seated}x`);
  if ('opsPerSec' in baseline) console.log(`raw Redis DECR ${baseline.opsPerSec} ops/s`);
  if (!summary.ok) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
