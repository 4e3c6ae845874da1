import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { hashSlot } from '../../src/platform/kv/hash-slot';
import { eventKeyPrefix } from '../support/ticketing';
import { http as plainHttp, KEYS } from '../support/app';
import { AppProcess } from '../support/processes';
import { adScenario, WindowCounts } from '../support/ad-scenario';
import { AllocationRow, allocationProblems, sortedEntries } from './flows';
import { groupCoordinator, LocalCluster } from './local-cluster';

/**
 * The full profile on a real cluster, started by this suite (scripts/cluster.sh): a Redis Cluster
 * of six redis-server processes (3 primaries + 3 replicas) and three KRaft brokers (replication 3,
 * min.insync.replicas 2), beside the shared PostgreSQL. Two `api,scheduler` and two `worker`
 * processes share it. Then nodes are SIGKILLed under load and nothing acknowledged may be lost:
 * a Redis primary during leaderboard writes and during a flash sale, a Kafka broker during the ad
 * stream, and the GPU scheduler's leader process (last: it leaves one api process).
 *
 * Ports: random free ones by default; TETRAD_CLUSTER_REDIS_PORTS / TETRAD_CLUSTER_KAFKA_PORTS /
 * TETRAD_CLUSTER_APP_PORTS (`LO-HI`) keep them inside ranges (local-cluster.ts).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
/** Progress on stderr: a slow step on a loaded box is then visible in the run's output. */
const step = (what: string) => process.stderr.write(`[cluster suite +${((Date.now() - t0) / 1000).toFixed(0)}s] ${what}\n`);
/** A request that cannot hang the test: 10 s at most. */
const call = (base: string, method: string, path: string, opts: Parameters<typeof http>[3]) =>
  Promise.race([http(base, method, path, opts), sleep(10_000).then(() => ({ status: 0, headers: new Headers(), body: undefined }))]);
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The api processes' shared per-IP limit (requests per second), tested below. */
const IP_LIMIT = 40;
/** The api processes' top-K cache interval: the staleness bound tested below. */
const TOP_CACHE_MS = 1000;
/**
 * Every request of the suite comes from its own client address (X-Forwarded-For, believed from
 * loopback): the per-IP limit then only bites where the rate-limit test sends from one address.
 */
const someIp = () => `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
const http = (base: string, method: string, path: string, opts: Parameters<typeof plainHttp>[3] = {}) =>
  plainHttp(base, method, path, { ...opts, headers: { 'x-forwarded-for': someIp(), ...(opts.headers ?? {}) } });

/** A process's last log lines for a failure message, less kafkajs's reconnect noise. */
const logTail = (p: AppProcess) => p.output.split('\n').filter((l) => !l.includes('[Connection]')).join('\n').slice(-3000);

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
    // No per-key limit (the load below would hit it); the per-IP limit is on in api processes and
    // shared through the cluster. Workers (their simulated GPU agents report to their own server) have none.
    RATE_LIMIT_PER_SECOND: '0',
    RATE_LIMIT_PER_IP_PER_SECOND: roles.includes('api') ? String(IP_LIMIT) : '0',
    LEADERBOARD_TOP_CACHE_MS: String(TOP_CACHE_MS),
    // Ad stream: lateness far beyond any gap a broker loss causes, so no on-time event turns late.
    ADS_OUT_OF_ORDERNESS_MS: '1000',
    ADS_ALLOWED_LATENESS_MS: '600000',
    ADS_CHECKPOINT_INTERVAL_MS: '300',
    ADS_REPORT_CRON: 'off',
    // GPU: simulated nodes hosted by the workers (host lease 3 heartbeats), runs at 2x speed.
    GPU_AGENT_HEARTBEAT_MS: '1000',
    GPU_AGENT_TIME_SCALE: '2',
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
    // Two at a time (four ts-node boots at once overran the start bound on a loaded box). The GPU
    // scheduler runs in the api processes, so killing its leader leaves the workers' simulated agents be.
    for (const pair of [['worker', 'worker'], ['api,scheduler', 'api,scheduler']]) {
      const ports = [await cluster.appPort(), await cluster.appPort()];
      const started = await Promise.all(pair.map((roles, i) => new AppProcess(env(roles)).start(120_000, ports[i])));
      // TETRAD_CLUSTER_LOG_DIR: every line of every app process, for a post-mortem (the failure
      // messages keep only the tails).
      const logDir = process.env.TETRAD_CLUSTER_LOG_DIR;
      if (logDir) {
        for (const p of started) {
          const file = join(logDir, `${p.port}-${pair[0].replace(',', '+')}.log`);
          p.proc.stdout!.on('data', (d) => appendFileSync(file, d));
          p.proc.stderr!.on('data', (d) => appendFileSync(file, d));
        }
      }
      (pair[0] === 'worker' ? workers : apis).push(...started);
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
    if (!(sum(started) > 0)) throw new Error(`no score applied before the kill (${String(untilError)}, ${batches} batches); worker logs:\n${workers.map(logTail).join('\n---\n')}`);

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
      throw new Error(`board sum ${sum(final)} != acknowledged ${total} (${String(untilError)}); worker logs:\n${workers.map(logTail).join('\n---\n')}`);
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
    const failures: string[] = [];
    const hold = async (i: number) => {
      const r = await call(api(i), 'POST', `/api/v1/events/${eventId}/holds`, {
        key: KEYS.client,
        body: { userId: `u${i}`, quantity: 1 },
        headers: { 'idempotency-key': `k-${eventId}-${i}` },
      }).catch(() => ({ status: 0, body: undefined }));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status >= 500 && r.status !== 503) failures.push(JSON.stringify(r.body));
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
    if ((statuses.get(500) ?? 0) > 0) {
      throw new Error(`500 answers during the failover: ${failures.join('; ')}; api logs:\n${apis.map(logTail).join('\n---\n')}`);
    }
    // The reconciler (scheduler role, every 10 s) rebuilds or repairs the hot inventory from SQL.
    const agrees = async () => {
      const free: { n: string }[] = (await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`, [eventId])).rows;
      const stock = await redis.get(`${prefix}:stock`);
      const ready = await redis.get(`${prefix}:ready`);
      return ready !== null && Number(stock) === Number(free[0].n);
    };
    if ((await until(agrees, (ok) => ok === true, 90_000)) !== true) {
      throw new Error(`Redis disagrees with PostgreSQL (${String(untilError)}); worker logs:\n${workers.map(logTail).join('\n---\n')}`);
    }
    // The sale goes on after the failover: the remaining places sell, and no more.
    for (let i = 1000; i < 1000 + 2 * capacity; i += 30) await Promise.all(Array.from({ length: 30 }, (_, j) => hold(i + j)));
    const after: { n: string }[] = (await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status <> 'AVAILABLE'`, [eventId])).rows;
    expect(Number(after[0].n)).toBe(capacity);
    await cluster.restartMissing();
  }, 420_000);

  it('ad stream: a Kafka broker SIGKILLed mid-stream (the stream group\'s coordinator and a partition leader); every acknowledged event is counted exactly once in the closed windows', async () => {
    const sc = adScenario(ns, 30, 200);
    const topic = `${ns}.ads.events`;
    const kafka = new Kafka({ clientId: `${ns}-suite`, brokers: cluster.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Each batch goes to one api process (alternating) and is sent again, to the other one too,
      // until a 202: a batch the log did not acknowledge may or may not be in it, and the stream
      // dedups a second copy by (type, impressionId). So every event ends acknowledged, once counted.
      const statuses = new Map<number, number>();
      let killedAt = 0;
      let lastRefusal = 0;
      let slowestAfterKill = 0;
      const send = async (b: number) => {
        const t = Date.now();
        const deadline = t + 120_000;
        for (let attempt = 0; ; attempt++) {
          const r = await call(api(b + attempt), 'POST', '/api/v1/track/events', { key: KEYS.service, body: { events: sc.batches[b] } });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 202) {
            expect(r.body).toEqual({ accepted: sc.batches[b].length });
            if (killedAt) slowestAfterKill = Math.max(slowestAfterKill, Date.now() - t);
            return;
          }
          // 503: the log did not acknowledge in time; 0: no answer within 10 s. Anything else is a bug.
          if (r.status !== 503 && r.status !== 0) throw new Error(`track answered ${r.status}: ${JSON.stringify(r.body)}`);
          lastRefusal = Date.now();
          if (Date.now() > deadline) throw new Error(`batch ${b} not acknowledged within 120 s (${JSON.stringify(Object.fromEntries(statuses))})`);
          await sleep(250);
        }
      };
      for (let b = 0; b < sc.batches.length; b++) {
        await send(b);
        if (b === 9) {
          // The broker coordinating the stream's consumer group dies mid-stream (the hard case for
          // kafkajs: commits went on to the dead coordinator, test/cluster/event-bus-failover.test.ts),
          // with the partitions it leads: they elect new leaders from the in-sync replicas, and
          // acks=all with min.insync.replicas 2 still holds on two brokers.
          const node = await groupCoordinator(admin, `${ns}.ads.stream`);
          const meta = await admin.fetchTopicMetadata({ topics: [topic] });
          const led = meta.topics[0].partitions.filter((p) => p.leader === node).map((p) => p.partitionId);
          cluster.killKafka(node);
          killedAt = Date.now();
          step(`ads: SIGKILLed Kafka node ${node} (coordinator of the stream group, leader of partitions [${led.join(',')}]) after 10 acknowledged batches`);
        } else await sleep(100);
      }
      const unavailableMs = lastRefusal > killedAt ? lastRefusal - killedAt : 0;
      step(`ads: ${sc.batches.length} batches acknowledged, answers ${JSON.stringify(Object.fromEntries(statuses))}; refusals until ${(unavailableMs / 1000).toFixed(1)} s after the kill, slowest batch after it ${(slowestAfterKill / 1000).toFixed(1)} s`);

      // Closed windows, as the API serves them (PostgreSQL) and as the Redis dashboard holds them.
      const range = `from=${sc.from}&to=${sc.to}`;
      const served = async (): Promise<WindowCounts> => {
        const out: WindowCounts = new Map();
        for (const adId of sc.ads) {
          const r = await call(api(0), 'GET', `/api/v1/stats/ads/${adId}?${range}`, { key: KEYS.client });
          if (r.status !== 200) throw new Error(`stats ${r.status}`);
          for (const w of r.body.buckets as { minute: string; impressions: number; clicks: number }[]) {
            out.set(`${adId}|${Date.parse(w.minute)}`, { impressions: w.impressions, clicks: w.clicks });
          }
        }
        return out;
      };
      const dashboard = async (): Promise<WindowCounts> => {
        const out: WindowCounts = new Map();
        for (const adId of sc.ads) {
          for (const [field, value] of Object.entries(await redis.hgetall(`${ns}:ads:rt:ad:${adId}`))) {
            const k = `${adId}|${field.slice(0, field.indexOf(':'))}`;
            const [i, c] = value.split(':').map(Number);
            const e = out.get(k) ?? { impressions: 0, clicks: 0 };
            out.set(k, { impressions: e.impressions + i, clicks: e.clicks + c });
          }
        }
        return out;
      };
      const want = JSON.stringify(sortedEntries(sc.expected));
      const exact = async () => JSON.stringify(sortedEntries(await served())) === want && JSON.stringify(sortedEntries(await dashboard())) === want;
      if ((await until(exact, (ok) => ok === true, 120_000)) !== true) {
        throw new Error(`closed windows differ from the truth (${String(untilError)}); worker logs:\n${workers.map(logTail).join('\n---\n')}`);
      }
      await sleep(2000); // a late double count (a replay after the failover) would show up now
      expect(sortedEntries(await served())).toEqual(sortedEntries(sc.expected));
      expect(sortedEntries(await dashboard())).toEqual(sortedEntries(sc.expected));
      step(`ads: closed windows exact (${sc.expected.size} ad-minutes) ${((Date.now() - killedAt) / 1000).toFixed(0)} s after the kill`);
    } finally {
      await admin.disconnect();
      // The broker comes back (it catches up from the others) for the tests after this one.
      await cluster.restartMissing();
      step('ads: killed broker restarted');
    }
  }, 420_000);

  it('many processes: the two workers share each consumer group\'s partitions, one per-IP limit holds across both api processes, and each top-K cache stays within its bound', async () => {
    // 1. Consumer groups: both worker processes are members, and the partitions are split between them.
    const kafka = new Kafka({ clientId: `${ns}-suite`, brokers: cluster.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const groups = [`${ns}.ads.stream`, `${ns}.leaderboard.scores-applier`];
      const split = async () => {
        const { groups: described } = await admin.describeGroups(groups);
        return described.map((g) => ({
          group: g.groupId,
          state: g.state,
          members: g.members.map((m) => {
            const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
            return Object.values(a?.assignment ?? {}).flat().sort();
          }),
        }));
      };
      const stable = (v: Awaited<ReturnType<typeof split>>) => v?.every((g) => g.state === 'Stable' && g.members.length === 2);
      const assigned = await until(split, stable, 60_000);
      step(`groups: ${JSON.stringify(assigned)}`);
      if (!stable(assigned)) throw new Error(`groups not split over two members: ${JSON.stringify(assigned)}; worker logs:\n${workers.map(logTail).join('\n---\n')}`);
      for (const g of assigned) {
        expect(g.state).toBe('Stable');
        expect(g.members).toHaveLength(2);
        expect(g.members.every((parts) => parts.length > 0)).toBe(true);
        expect(g.members.flat().sort()).toEqual([0, 1, 2]); // every partition, each once
      }
    } finally {
      await admin.disconnect();
    }
    // And both processes did stream work (their own counters, from the ad test before this one).
    for (const w of workers) {
      const m = /^ads_stream_events_total (\d+)/m.exec((await http(w.url, 'GET', '/metrics')).body as string);
      expect(Number(m?.[1] ?? 0)).toBeGreaterThan(0);
    }

    // 2. The per-IP limit is one counter in Redis for all api processes. Each burst sends exactly
    // IP_LIMIT requests from one address to each of the two api processes, all at once: a process
    // with its own counter would never refuse one of them (it sees only IP_LIMIT), whatever the
    // timing; with the shared counter a burst inside one one-second window gets IP_LIMIT answers in
    // all and IP_LIMIT refusals. A burst that straddles windows may be served whole, so up to five.
    const board = `rl-${randomBytes(3).toString('hex')}`;
    expect((await http(api(0), 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id: board } })).status).toBe(201);
    const bursts: { served: number; refused: number; refusedBy: number[]; spanMs: number }[] = [];
    for (let b = 0; b < 5 && !bursts.some((x) => x.refused > 0); b++) {
      const ip = `198.51.${100 + b}.${1 + Math.floor(Math.random() * 254)}`;
      const refusedBy = [0, 0];
      let served = 0;
      const begin = Date.now();
      await Promise.all(
        Array.from({ length: 2 * IP_LIMIT }, async (_, i) => {
          const r = await call(api(i), 'GET', `/api/v1/leaderboards/${board}/top?limit=1`, { key: KEYS.client, headers: { 'x-forwarded-for': ip } });
          if (r.status === 429) {
            expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
            refusedBy[i % 2]++;
          } else {
            expect(r.status).toBe(200);
            served++;
          }
        }),
      );
      const spanMs = Date.now() - begin;
      bursts.push({ served, refused: refusedBy[0] + refusedBy[1], refusedBy, spanMs });
      // Fixed windows of 1 s, each starting at a first request: a span of S ms holds at most floor(S/1000)+1.
      expect(served).toBeLessThanOrEqual(IP_LIMIT * (Math.floor(spanMs / 1000) + 1));
    }
    step(`rate limit (${IP_LIMIT}/s per IP, 2 x ${IP_LIMIT} requests per burst): ${JSON.stringify(bursts)}`);
    expect(bursts.some((x) => x.refused > 0)).toBe(true);

    // 3. Per-process top-K caches: once a score is in the store (seen by an uncached player read),
    // every api process shows it in `top` from LEADERBOARD_TOP_CACHE_MS later at the latest.
    let worst = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < apis.length; i++) expect((await http(api(i), 'GET', `/api/v1/leaderboards/${board}/top?limit=10`, { key: KEYS.client })).status).toBe(200);
      const player = `p${round}`;
      expect((await http(api(round), 'PUT', `/api/v1/leaderboards/${board}/scores/${player}`, { key: KEYS.service, body: { score: 100 + round } })).status).toBe(202);
      const inStore = await until(() => http(api(0), 'GET', `/api/v1/leaderboards/${board}/players/${player}`, { key: KEYS.client }), (r) => r?.status === 200, 30_000);
      expect(inStore.status).toBe(200);
      const visibleAt = Date.now();
      // How stale each cache really is: poll until the new entry shows.
      const shows = async (i: number) => ((await http(api(i), 'GET', `/api/v1/leaderboards/${board}/top?limit=10`, { key: KEYS.client })).body.entries as { playerId: string }[]).some((e) => e.playerId === player);
      for (let i = 0; i < apis.length; i++) {
        await until(() => shows(i), (ok) => ok === true || Date.now() - visibleAt > TOP_CACHE_MS, TOP_CACHE_MS + 5000);
      }
      worst = Math.max(worst, Date.now() - visibleAt);
      // The bound: a request sent TOP_CACHE_MS after the store had it sees it, in every process.
      await sleep(Math.max(0, visibleAt + TOP_CACHE_MS - Date.now()));
      for (let i = 0; i < apis.length; i++) expect(await shows(i)).toBe(true);
    }
    step(`top-K cache: new scores showed in both api processes within ${worst} ms of being in the store (bound ${TOP_CACHE_MS} ms)`);
  }, 300_000);

  it('gpu-scheduler: the leader process SIGKILLed mid-queue; the other api process takes the lease, every task runs once to success, no GPU is ever held twice', async () => {
    const nodes = ['g-1', 'g-2'].map((n) => `${ns}-${n}`);
    for (const id of nodes) {
      const r = await http(api(0), 'POST', '/api/v1/gpu/nodes', { key: KEYS.service, body: { id, gpuType: 'A100', gpuCount: 4, gpuMemoryGb: 40, simulated: true } });
      expect(r.status).toBe(200);
    }
    const metric = async (p: AppProcess, outcome: string) => {
      const m = new RegExp(`gpu_scheduler_decisions_total\\{outcome="${outcome}"\\} (\\d+)`).exec((await http(p.url, 'GET', '/metrics')).body as string);
      return m ? Number(m[1]) : 0;
    };
    const ids: string[] = [];
    // Submits are idempotent: one that got no answer (its process died) is sent again to the other.
    const submit = async (i: number, to: AppProcess[]) => {
      const key = `${ns}-gpu-${i}`;
      for (let attempt = 0; ; attempt++) {
        const r = await call(to[(i + attempt) % to.length].url, 'POST', '/api/v1/tasks', {
          key: KEYS.client,
          headers: { 'idempotency-key': key },
          body: { userId: `u${i % 3}`, tier: i % 4 === 0 ? 'vip' : 'normal', gpuType: 'A100', gpuCount: 1 + (i % 2), gpuMemoryGb: 10, estimatedRuntimeSec: 2 },
        });
        if (r.status === 202) return void ids.push(r.body.taskId as string);
        if (r.status !== 0 && r.status !== 503) throw new Error(`submit ${r.status}: ${JSON.stringify(r.body)}`);
        if (attempt > 20) throw new Error(`submit ${i} never acknowledged`);
        await sleep(500);
      }
    };
    // 24 tasks on 8 GPUs (1 s runs): a queue that lasts several seconds.
    for (let i = 0; i < 24; i++) await submit(i, apis);
    const boundBy = await until(
      async () => Promise.all(apis.map((p) => metric(p, 'bound'))),
      (v) => v !== undefined && v[0] + v[1] >= 6,
      60_000,
    );
    // One process holds the lease and binds; the other does not bind at all.
    expect(boundBy.filter((n) => n > 0)).toHaveLength(1);
    const leader = apis[boundBy[0] > 0 ? 0 : 1];
    const survivor = apis.find((p) => p !== leader)!;
    const survivorBefore = await metric(survivor, 'bound');
    await leader.kill('SIGKILL');
    apis.splice(apis.indexOf(leader), 1);
    const killedAt = Date.now();
    step(`gpu: SIGKILLed the scheduler leader (api process on port ${leader.port}) after ${boundBy[0] + boundBy[1]} bindings`);
    for (let i = 24; i < 40; i++) await submit(i, apis);
    await until(() => metric(survivor, 'bound'), (n) => n > survivorBefore, 60_000);
    const takeoverMs = Date.now() - killedAt;
    step(`gpu: the other api process binds ${(takeoverMs / 1000).toFixed(1)} s after the kill (lease TTL 5 s)`);

    const statuses = async () =>
      (await db.query(`SELECT status, count(*)::int AS n FROM gpu_tasks WHERE namespace = $1 GROUP BY status ORDER BY status`, [ns])).rows as { status: string; n: number }[];
    const done = await until(statuses, (v) => v?.length === 1 && v[0].status === 'SUCCEEDED' && v[0].n === 40, 180_000);
    if (!(done?.length === 1 && done[0].n === 40)) throw new Error(`not every task succeeded: ${JSON.stringify(done)}; worker logs:\n${workers.map(logTail).join('\n---\n')}`);
    expect(new Set(ids).size).toBe(40);

    const rows: AllocationRow[] = (
      await db.query(`SELECT task_id, attempt, node_id, gpu_index, milli, bound_at_ms, released_at_ms FROM gpu_allocations WHERE namespace = $1`, [ns])
    ).rows;
    expect(allocationProblems(rows)).toEqual([]);
    expect(rows.every((r) => r.released_at_ms !== null)).toBe(true);
    // Each task's last attempt holds exactly the GPUs it asked for; an earlier attempt exists only
    // where a dispatch was rolled back (bound by the dead leader, never acknowledged).
    const tasks: { id: string; attempt: number; gpu_count: number }[] = (await db.query(`SELECT id, attempt, gpu_count FROM gpu_tasks WHERE namespace = $1`, [ns])).rows;
    for (const t of tasks) expect(rows.filter((r) => r.task_id === t.id && r.attempt === t.attempt)).toHaveLength(t.gpu_count);
    const again = tasks.filter((t) => t.attempt > 1).length;
    const free: { n: number }[] = (await db.query(`SELECT cardinality(free_gpus) AS n FROM gpu_nodes WHERE namespace = $1`, [ns])).rows;
    expect(free.map((f) => f.n)).toEqual([4, 4]);
    step(`gpu: 40 tasks succeeded, ${rows.length} GPU bindings, no overlap; ${again} task(s) bound again after a rolled-back dispatch`);
  }, 420_000);
});
