/**
 * Checkout throughput with the simulated payment provider answering after 50 ms (full profile).
 * For each provider latency (50 ms, and 0 ms as the same-run baseline) a fresh app process
 * (bench/ticketing/flash-sale-app.ts) gets a 2,000-place GA event and 2,000 holds (untimed); then
 * 2,000 checkouts are fired over HTTP with bounded concurrency. Reported: checkouts accepted per
 * second and p50/p99 of the 202 answer; orders confirmed per second end to end (first checkout
 * sent → last order CONFIRMED, read from PostgreSQL) — that path is checkout transaction → BullMQ
 * → charge → confirm transaction (seats SOLD, tickets, outbox row) → outbox relay → Kafka.
 * Checked after each run: every order CONFIRMED, 2,000 seats sold with 2,000 distinct tickets, the
 * provider's ledger has 2,000 captured payments, and the outbox is fully published.
 *   npx ts-node --transpile-only bench/ticketing/checkout.bench.ts [orders=2000] [latencies=50,0]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

const ORDERS = Number(process.argv[2] ?? 2000);
const LATENCIES = (process.argv[3] ?? '50,0').split(',').map(Number);
const CONCURRENCY = 100;
const ADMIN = 'bench-admin-key';
const CLIENT = 'bench-client-key';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
if (!DB_URL.includes('test')) throw new Error('BENCH_DATABASE_URL must point at a test database');

const pct = (sorted: number[], p: number) => +sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++); }));
}

async function call(base: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'x-api-key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function startApp(latencyMs: number, ns: string) {
  const env = {
    ...process.env,
    APP_PROFILE: 'full',
    APP_MODULES: 'ticketing',
    NAMESPACE: ns,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: 'memory',
    DATABASE_URL: DB_URL,
    REDIS_URL,
    KAFKA_BROKERS: process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092',
    API_KEYS: `admin:${ADMIN},client:${CLIENT}`,
    RATE_LIMIT_PER_SECOND: '0',
    TICKETING_PAYMENT_LATENCY_MS: String(latencyMs),
    TICKETING_PAYMENT_WINDOW_SECONDS: '600',
  };
  const child = fork(join(__dirname, 'flash-sale-app.ts'), [], {
    env,
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
  });
  const stop = () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.send('close'); });
  return { base: `http://127.0.0.1:${port}`, stop };
}

async function runOnce(latencyMs: number, db: Client, redis: Redis) {
  const ns = `bench-co-${randomBytes(4).toString('hex')}`;
  const { base, stop } = await startApp(latencyMs, ns);
  try {
    const ev = await call(base, 'POST', '/api/v1/events', ADMIN, {
      name: 'checkout-bench',
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      holdTtlSeconds: 3600,
      maxPerUser: 1,
      generalAdmission: { capacity: ORDERS, price: 25 },
    });
    const eventId: string = ev.body.id;
    const holds: string[] = new Array(ORDERS);
    await pool(ORDERS, CONCURRENCY, async (i) => {
      const h = await call(base, 'POST', `/api/v1/events/${eventId}/holds`, CLIENT, { userId: `u${i}`, quantity: 1 }, { 'idempotency-key': `${ns}-h${i}` });
      if (h.status !== 201) throw new Error(`hold ${i}: ${h.status} ${JSON.stringify(h.body)}`);
      holds[i] = h.body.holdId;
    });

    const latencies: number[] = [];
    const t0 = Date.now();
    await pool(ORDERS, CONCURRENCY, async (i) => {
      const s = performance.now();
      const c = await call(base, 'POST', `/api/v1/holds/${holds[i]}/checkout`, CLIENT, { paymentMethod: 'card' }, { 'idempotency-key': `${ns}-c${i}` });
      latencies.push(performance.now() - s);
      if (c.status !== 202) throw new Error(`checkout ${i}: ${c.status} ${JSON.stringify(c.body)}`);
    });
    const acceptedMs = Date.now() - t0;
    let done = { n: 0, last: 0 };
    for (let i = 0; i < 600 && done.n < ORDERS; i++) {
      const r = await db.query(`SELECT count(*) AS n, max(updated_at_ms) AS last FROM ticketing_orders WHERE event_id = $1 AND status = 'CONFIRMED'`, [eventId]);
      done = { n: Number(r.rows[0].n), last: Number(r.rows[0].last) };
      if (done.n < ORDERS) await sleep(100);
    }
    const e2eMs = done.last - t0;
    for (let i = 0; i < 100; i++) {
      const r = await db.query(`SELECT count(*) AS n FROM ticketing_outbox WHERE namespace = $1 AND published_at_ms IS NULL`, [ns]);
      if (Number(r.rows[0].n) === 0) break;
      await sleep(100);
    }
    const checks = (
      await db.query(
        `SELECT (SELECT count(*) FROM ticketing_orders WHERE event_id = $1 AND status = 'CONFIRMED') AS confirmed,
                (SELECT count(*) FROM ticketing_seats WHERE event_id = $1 AND status = 'SOLD') AS sold,
                (SELECT count(DISTINCT seat_id) FROM ticketing_tickets WHERE event_id = $1) AS tickets,
                (SELECT count(*) FROM ticketing_outbox WHERE namespace = $2 AND published_at_ms IS NOT NULL) AS published,
                (SELECT count(*) FROM ticketing_outbox WHERE namespace = $2) AS outbox`,
        [eventId, ns],
      )
    ).rows[0];
    const orderIds = (await db.query(`SELECT id FROM ticketing_orders WHERE event_id = $1`, [eventId])).rows.map((r) => r.id as string);
    let captured = 0;
    for (let i = 0; i < orderIds.length; i += 500) {
      const vals = await redis.mget(...orderIds.slice(i, i + 500).map((id) => `${ns}:simpay:${id}`));
      captured += vals.filter((v) => v !== null && JSON.parse(v).status === 'captured').length;
    }
    latencies.sort((a, b) => a - b);
    const ok =
      Number(checks.confirmed) === ORDERS && Number(checks.sold) === ORDERS && Number(checks.tickets) === ORDERS &&
      captured === ORDERS && Number(checks.outbox) === 2 * ORDERS && Number(checks.published) === 2 * ORDERS;
    return {
      latencyMs,
      acceptedPerSec: Math.round((ORDERS / acceptedMs) * 1000),
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      confirmedPerSec: Math.round((ORDERS / e2eMs) * 1000),
      e2eMs,
      confirmed: Number(checks.confirmed),
      sold: Number(checks.sold),
      tickets: Number(checks.tickets),
      captured,
      outboxPublished: `${checks.published}/${checks.outbox}`,
      ok,
    };
  } finally {
    await stop();
  }
}

async function main() {
  const db = new Client({ connectionString: DB_URL });
  await db.connect();
  const redis = new Redis(REDIS_URL);
  const results = [];
  try {
    for (const l of LATENCIES) {
      const r = await runOnce(l, db, redis);
      console.log(JSON.stringify(r));
      results.push(r);
    }
  } finally {
    await db.end();
    redis.disconnect();
  }
  const at50 = results.find((r) => r.latencyMs === 50);
  const at0 = results.find((r) => r.latencyMs === 0);
  if (at50 && at0) console.log(`confirmed/s at 50 ms vs 0 ms provider latency: ${(at50.confirmedPerSec / at0.confirmedPerSec).toFixed(2)}x`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
