import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { Client } from 'pg';
import { hashSlot } from '../../src/platform/kv/hash-slot';
import { eventKeyPrefix } from '../support/ticketing';
import { http, KEYS } from '../support/app';
import { AppProcess } from '../support/processes';
import { LocalCluster } from './local-cluster';

/**
 * The full profile on a real cluster, started by this suite (scripts/cluster.sh): a Redis Cluster
 * of six redis-server processes (3 primaries + 3 replicas) and three KRaft brokers (replication 3,
 * min.insync.replicas 2), beside the shared PostgreSQL. Two `api` and two `worker,scheduler`
 * processes share it. Then nodes are SIGKILLed under load and nothing acknowledged may be lost.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
/** Progress on stderr: a slow step on a loaded box is then visible in the run's output. */
const step = (what: string) => process.stderr.write(`[cluster suite +${((Date.now() - t0) / 1000).toFixed(0)}s] ${what}\n`);
/** A request that cannot hang the test: 10 s at most. */
const call = (base: string, method: string, path: string, opts: Parameters<typeof http>[3]) =>
  Promise.race([http(base, method, path, opts), sleep(10_000).then(() => ({ status: 0, headers: new Headers(), body: undefined }))]);
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Polls until `ok`; on time-out returns the last value, and `untilError` keeps the last failure. */
let untilError: unknown;
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  untilError = undefined;
  for (;;) {
    const v = await fn().catch((e: unknown) => {
      untilError = e;
      return undefined as T;
    });
    if (ok(v) || Date.now() > end) return v;
    await sleep(200);
  }
}

describe('cluster profile: Redis Cluster + 3-broker Kafka, 2 api + 2 worker processes', () => {
  const cluster = new LocalCluster();
  const ns = `c-${randomBytes(4).toString('hex')}`;
  const apis: AppProcess[] = [];
  const workers: AppProcess[] = [];
  let db: Client;
  let redis: Cluster;

  const env = (roles: string): Record<string, string> => ({
    APP_PROFILE: 'full',
    APP_ROLES: roles,
    NAMESPACE: ns,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL,
    DATABASE_POOL_SIZE: '5',
    REDIS_CLUSTER_NODES: cluster.redisNodes,
    REDIS_READ_FROM: 'replica',
    KAFKA_BROKERS: cluster.kafkaBrokers.join(','),
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_PARTITIONS: '3',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    API_KEYS: `admin:${KEYS.admin},service:${KEYS.service},client:${KEYS.client}`,
    RATE_LIMIT_PER_SECOND: '0',
    LEADERBOARD_TOP_CACHE_MS: '0',
  });
  const api = (i: number) => apis[i % apis.length].url;

  beforeAll(async () => {
    await cluster.up();
    step(`cluster up: redis ${cluster.redisNodes}, kafka ${cluster.kafkaBrokers.join(',')}`);
    db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
    redis = new Cluster(
      cluster.redisNodes.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })),
      { slotsRefreshInterval: 2000, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200 },
    );
    redis.on('error', () => undefined); // a killed node's connection errors until the slots move
    // One at a time: four ts-node boots at once overran the 60 s start bound on the loaded box.
    for (const roles of ['worker,scheduler', 'worker,scheduler', 'api', 'api']) {
      const p = await new AppProcess(env(roles)).start();
      (roles === 'api' ? apis : workers).push(p);
    }
    step('2 api + 2 worker processes up');
  }, 420_000);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.kill('SIGKILL').catch(() => undefined)));
    redis?.disconnect();
    await db?.end();
    await cluster.down();
  }, 180_000);

  it('spreads a sharded board over the three primaries', async () => {
    const id = `spread-${randomBytes(3).toString('hex')}`;
    const created = await http(api(0), 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id, shards: 16 } });
    expect(created.status).toBe(201);
    const nodes = await cluster.nodes();
    const owners = new Map<number, number>();
    for (let s = 0; s < 16; s++) {
      const slot = hashSlot(`{${id}#${created.body.season}#${s}}`);
      const owner = nodes.find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b))!;
      owners.set(owner.port, (owners.get(owner.port) ?? 0) + 1);
    }
    expect(owners.size).toBe(3);
  });

  it('leaderboard: a primary SIGKILLed during writes loses no acknowledged score and applies none twice', async () => {
    const id = `fo-${randomBytes(3).toString('hex')}`;
    const created = await http(api(0), 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id, updatePolicy: 'increment', shards: 6 } });
    expect(created.status).toBe(201);
    const expected = new Map<string, number>();
    let batches = 0;
    let stop = false;
    // Two writers, one per api process; every 202 is recorded.
    const writers = [0, 1].map(async (w) => {
      while (!stop) {
        const entries = Array.from({ length: 100 }, () => ({ playerId: `p${Math.floor(Math.random() * 300)}`, score: 1 + Math.floor(Math.random() * 50) }));
        const r = await call(api(w), 'POST', `/api/v1/leaderboards/${id}/scores:batch`, { key: KEYS.service, body: { entries } }).catch(() => undefined);
        if (r?.status === 202) {
          for (const e of entries) expected.set(e.playerId, (expected.get(e.playerId) ?? 0) + e.score);
          batches++;
        }
        await sleep(30);
      }
    });
    const standings = async () => {
      const r = await call(api(1), 'GET', `/api/v1/leaderboards/${id}/top?limit=1000`, { key: KEYS.client });
      if (r.status !== 200) throw new Error(`top ${r.status}`);
      return new Map((r.body.entries as { playerId: string; score: number }[]).map((e) => [e.playerId, e.score]));
    };
    const sum = (m?: Map<string, number>) => (m ? [...m.values()].reduce((a, b) => a + b, 0) : 0);
    const started = await until(standings, (m) => sum(m) > 0 && batches >= 5, 60_000);
    if (!(sum(started) > 0)) throw new Error(`no score applied before the kill (${String(untilError)}, ${batches} batches); worker logs:\n${workers.map((w) => w.output.slice(-3000)).join('\n---\n')}`);

    // The primary that holds shard 0 dies without a word to its replica.
    const victim = (await cluster.primaryOf(hashSlot(`{${id}#${created.body.season}#0}`)))!;
    cluster.killRedis(victim.port);
    step(`leaderboard: SIGKILLed primary ${victim.port} after ${batches} batches`);
    // Its replica is promoted (cluster-node-timeout 2 s), while writes go on.
    const promoted = await until(
      () => cluster.primaryOf(hashSlot(`{${id}#${created.body.season}#0}`)),
      (n) => n !== undefined && n.port !== victim.port,
      30_000,
    );
    expect(promoted?.port).not.toBe(victim.port);
    step(`leaderboard: replica ${promoted?.port} promoted`);
    await sleep(3000);
    stop = true;
    await Promise.all(writers);
    const total = sum(expected);
    step(`leaderboard: writers stopped, ${batches} batches acknowledged`);
    const final = await until(standings, (m) => sum(m) === total, 90_000);
    if (sum(final) !== total) {
      throw new Error(`board sum ${sum(final)} != acknowledged ${total} (${String(untilError)}); worker logs:\n${workers.map((w) => w.output.slice(-3000)).join('\n---\n')}`);
    }
    expect(final).toEqual(expected);
    await sleep(2000); // a late double apply would show up now
    expect(await standings()).toEqual(expected);
    // Ranks read from replicas agree with the board order.
    const someone = [...expected.keys()][0];
    const view = await http(api(0), 'GET', `/api/v1/leaderboards/${id}/players/${someone}?around=1`, { key: KEYS.client });
    expect(view.status).toBe(200);
    expect(view.body.score).toBe(expected.get(someone));
    step('leaderboard: board equals the acknowledged writes');
    // The killed node comes back as a replica of the promoted one, for the next test.
    await cluster.restartMissing();
    step('leaderboard: killed node restarted');
    await until(() => cluster.nodes(), (ns) => ns.filter((n) => n.role === 'slave' && n.connected && !n.failed).length === 3, 60_000);
  }, 420_000);

  it('ticketing: a primary SIGKILLed during a flash sale never oversells, and Redis agrees with PostgreSQL after reconciliation', async () => {
    const capacity = 150;
    const ev = await http(api(0), 'POST', '/api/v1/events', {
      key: KEYS.admin,
      body: { name: 'flash', startsAt: new Date(Date.now() + 86_400_000).toISOString(), generalAdmission: { capacity, price: 10 }, maxPerUser: 1 },
    });
    expect(ev.status).toBe(201);
    const eventId = ev.body.id as string;
    const prefix = eventKeyPrefix(ns, eventId);
    const statuses = new Map<number, number>();
    const hold = async (i: number) => {
      const r = await call(api(i), 'POST', `/api/v1/events/${eventId}/holds`, {
        key: KEYS.client,
        body: { userId: `u${i}`, quantity: 1 },
        headers: { 'idempotency-key': `k-${eventId}-${i}` },
      }).catch(() => ({ status: 0 }));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    };
    // The sale: 450 buyers for 150 places, 30 at a time, the event's primary killed after 90 buyers.
    let victimKilled = false;
    for (let i = 0; i < 450; i += 30) {
      await Promise.all(Array.from({ length: 30 }, (_, j) => hold(i + j)));
      if (!victimKilled && i >= 60) {
        const victim = (await cluster.primaryOf(hashSlot(`${prefix}:stock`)))!;
        cluster.killRedis(victim.port);
        victimKilled = true;
        step(`ticketing: SIGKILLed primary ${victim.port} after ${i + 30} buyers`);
      }
    }
    const held: { n: string }[] = (await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status <> 'AVAILABLE'`, [eventId])).rows;
    expect(Number(held[0].n)).toBeLessThanOrEqual(capacity);
    expect(statuses.get(201) ?? 0).toBeLessThanOrEqual(capacity);
    expect(statuses.get(201) ?? 0).toBe(Number(held[0].n));
    step(`ticketing: sale over, ${JSON.stringify(Object.fromEntries(statuses))}`);
    // During the failover a buyer gets 503 + Retry-After (dependency_unavailable), never a 500.
    expect(statuses.get(500) ?? 0).toBe(0);
    // The reconciler (scheduler role, every 10 s) rebuilds or repairs the hot inventory from SQL.
    const agrees = async () => {
      const free: { n: string }[] = (await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`, [eventId])).rows;
      const stock = await redis.get(`${prefix}:stock`);
      const ready = await redis.get(`${prefix}:ready`);
      return ready !== null && Number(stock) === Number(free[0].n);
    };
    if ((await until(agrees, (ok) => ok === true, 90_000)) !== true) {
      throw new Error(`Redis disagrees with PostgreSQL (${String(untilError)}); worker logs:\n${workers.map((w) => w.output.slice(-3000)).join('\n---\n')}`);
    }
    // The sale goes on after the failover: the remaining places sell, and no more.
    for (let i = 1000; i < 1000 + 2 * capacity; i += 30) await Promise.all(Array.from({ length: 30 }, (_, j) => hold(i + j)));
    const after: { n: string }[] = (await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status <> 'AVAILABLE'`, [eventId])).rows;
    expect(Number(after[0].n)).toBe(capacity);
    await cluster.restartMissing();
  }, 420_000);
});
