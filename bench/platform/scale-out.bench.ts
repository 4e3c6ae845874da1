/**
 * Scale-out on the local cluster (issue 13): three comparisons, each against a baseline measured in
 * the same run, with the CPU seconds (utime + stime from /proc) each process spent in the phase, so a
 * reader can tell what more machines would give where this box (2 cores) cannot show it.
 *   1. leaderboard, one Redis vs the 3-primary Redis Cluster (same Kafka, same app processes: one
 *      `api`, one `worker`): ingest — 100,000 scores as `scores:batch` of 1,000, 4 in flight, timed
 *      from the first request until all are visible on a 16-shard board — and uncached reads
 *      (autocannon: `players/:id?around=5`, `top?limit=100` with LEADERBOARD_TOP_CACHE_MS=0);
 *   2. ad stream, 1 vs 2 `worker` processes: a pre-built stream produced straight to Kafka (6
 *      partitions) once the group is stable; events/s from the first send until every event is
 *      checkpointed (ads_stream_events_total summed over the workers);
 *   3. HTTP, 1 vs 2 `api` processes (WEB_CONCURRENCY, one port): `top?limit=10` from the top-K cache;
 *   4. flash sale, 1 vs 2 `api` processes (two ports, requests alternate, as behind a proxy):
 *      FLASH_USERS distinct users race for a 1,000-place general-admission event (one hold each,
 *      Redis hold strategy on the cluster); holds answered per second, p50/p99, and the checks
 *      that exactly 1,000 were held and none oversold.
 * Needs the local cluster and its env, plus a private single redis-server it starts itself:
 *   bash scripts/cluster.sh up && set -a && . <(bash scripts/cluster.sh env) && set +a
 *   CLUSTER_DIR=<the cluster's dir> npx ts-node --transpile-only bench/platform/scale-out.bench.ts [seconds=10] [parts=lb,ads,http,flash]
 * Env: BENCH_REDIS_PORT (7190: the single-Redis baseline), BENCH_APP_PORTS (LO-HI, else any free
 * port), SCORES (100000), AD_BATCHES (100 batches of 1,000 impressions), FLASH_USERS (10000), DATABASE_URL.
 */
import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AssignerProtocol, Kafka, logLevel, Partitioners } from 'kafkajs';
import { encodeEvent } from '../../src/modules/ad-analytics/domain';
import { adScenario } from '../../test/support/ad-scenario';
import { freePort, AppProcess, waitForPort } from '../../test/support/processes';
import { autocannon, LoadResult } from '../support/autocannon';

const seconds = Number(process.argv[2] ?? 10);
const parts = (process.argv[3] ?? 'lb,ads,http,flash').split(',');
const SCORES = Number(process.env.SCORES ?? 100_000);
const AD_BATCHES = Number(process.env.AD_BATCHES ?? 100);
const FLASH_USERS = Number(process.env.FLASH_USERS ?? 10_000);
const KEY = 'bench-admin-key';
const nodes = process.env.REDIS_CLUSTER_NODES ?? '';
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const clusterDir = process.env.CLUSTER_DIR ?? '';
const singlePort = Number(process.env.BENCH_REDIS_PORT ?? 7190);
const DATABASE_URL = process.env.DATABASE_URL?.includes('test') ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- CPU accounting ------------------------------------------------------------------------------

const TICK = 100; // USER_HZ on Linux
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}
/** The pid and every descendant (node:cluster workers of an api process). */
function tree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [c, p] of parent) if (p === out[i]) out.push(c);
  return out;
}
type Groups = Record<string, () => number[]>;
/** CPU seconds each group of processes spends while `fn` runs. */
async function measured<T>(groups: Groups, fn: () => Promise<T>): Promise<{ value: T; cpu: Record<string, number>; wall: number }> {
  const sum = (pids: number[]) => pids.reduce((a, p) => a + cpuOf(p), 0);
  const pidsBefore = Object.fromEntries(Object.entries(groups).map(([k, f]) => [k, f()]));
  const before = Object.fromEntries(Object.entries(pidsBefore).map(([k, pids]) => [k, sum(pids)]));
  const t0 = Date.now();
  const value = await fn();
  const wall = (Date.now() - t0) / 1000;
  const cpu = Object.fromEntries(Object.entries(pidsBefore).map(([k, pids]) => [k, +(sum(pids) - before[k]).toFixed(2)]));
  return { value, cpu, wall };
}
const pidFile = (f: string) => () => {
  try {
    return [Number(readFileSync(f, 'utf8'))];
  } catch {
    return [];
  }
};
const clusterRedisPids = () =>
  readdirSync(clusterDir)
    .filter((d) => d.startsWith('redis-'))
    .flatMap((d) => pidFile(join(clusterDir, d, 'pid'))());
const kafkaPids = () => [1, 2, 3].flatMap((n) => pidFile(join(clusterDir, 'kafka', `node-${n}`, 'kafka.pid'))());

// ---- processes -----------------------------------------------------------------------------------

const portsTaken = new Set<number>();
async function appPort(): Promise<number> {
  const r = /^(\d+)-(\d+)$/.exec(process.env.BENCH_APP_PORTS ?? '');
  if (!r) return freePort();
  for (let p = Number(r[1]); p <= Number(r[2]); p++) {
    if (portsTaken.has(p)) continue;
    portsTaken.add(p);
    const ok = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free port in BENCH_APP_PORTS');
}

function appEnv(ns: string, extra: Record<string, string>): Record<string, string> {
  return {
    APP_PROFILE: 'full',
    NAMESPACE: ns,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL,
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_REPLICATION_FACTOR: String(Math.min(3, brokers.length)),
    KAFKA_PARTITIONS: '6',
    API_KEYS: `admin:${KEY}`,
    RATE_LIMIT_PER_SECOND: '0',
    RATE_LIMIT_PER_IP_PER_SECOND: '0',
    ADS_REPORT_CRON: 'off',
    WEB_CONCURRENCY: '1',
    ...extra,
  };
}
async function app(ns: string, extra: Record<string, string>): Promise<AppProcess> {
  return new AppProcess(appEnv(ns, extra)).start(180_000, await appPort());
}
const redisEnv = (target: 'single' | 'cluster'): Record<string, string> => (target === 'single' ? { REDIS_URL: `redis://127.0.0.1:${singlePort}` } : { REDIS_CLUSTER_NODES: nodes });

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'x-api-key': KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const fmt = (r: LoadResult) => `${Math.round(r.rps)} req/s (p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors ? `, ${r.errors} errors` : ''})`;
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

// ---- 1. leaderboard on one Redis vs the cluster --------------------------------------------------

async function leaderboard(): Promise<void> {
  const single: ChildProcess = spawn('redis-server', ['--port', String(singlePort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(singlePort);
  const results: Record<string, { ingest: number; player: LoadResult; top: LoadResult; cpu: Record<string, Record<string, number>> }> = {};
  try {
    for (const target of ['single', 'cluster'] as const) {
      const ns = `so-lb-${target}-${randomBytes(3).toString('hex')}`;
      const extra = { ...redisEnv(target), APP_MODULES: 'leaderboard', LEADERBOARD_TOP_CACHE_MS: '0' };
      const worker = await app(ns, { ...extra, APP_ROLES: 'worker' });
      const api = await app(ns, { ...extra, APP_ROLES: 'api' });
      const groups: Groups = {
        api: () => tree(api.proc.pid!),
        worker: () => tree(worker.proc.pid!),
        redis: target === 'single' ? () => [single.pid!] : clusterRedisPids,
        kafka: kafkaPids,
      };
      try {
        const board = `b-${randomBytes(3).toString('hex')}`;
        if ((await call(api.url, 'POST', '/api/v1/leaderboards', { id: board, shards: 16 })).status !== 201) throw new Error('create failed');
        // Warm-up: the worker has joined its group and applies writes.
        await call(api.url, 'PUT', `/api/v1/leaderboards/${board}/scores/warm`, { score: 1 });
        while ((await call(api.url, 'GET', `/api/v1/leaderboards/${board}/top?limit=1`)).body?.total !== 1) await sleep(200);
        const batches = Array.from({ length: SCORES / 1000 }, (_, b) => Array.from({ length: 1000 }, (_, i) => ({ playerId: `p${b * 1000 + i}`, score: Math.floor(Math.random() * 1e6) })));
        const ingest = await measured(groups, async () => {
          let next = 0;
          await Promise.all(
            Array.from({ length: 4 }, async () => {
              while (next < batches.length) {
                const b = batches[next++];
                const r = await call(api.url, 'POST', `/api/v1/leaderboards/${board}/scores:batch`, { entries: b });
                if (r.status !== 202) throw new Error(`scores:batch ${r.status}`);
              }
            }),
          );
          while ((await call(api.url, 'GET', `/api/v1/leaderboards/${board}/top?limit=1`)).body?.total !== SCORES + 1) await sleep(50);
        });
        const player = await measured(groups, () => autocannon(`${api.url}/api/v1/leaderboards/${board}/players/p4242?around=5`, { connections: 50, seconds, headers: { 'x-api-key': KEY } }));
        const top = await measured(groups, () => autocannon(`${api.url}/api/v1/leaderboards/${board}/top?limit=100`, { connections: 50, seconds, headers: { 'x-api-key': KEY } }));
        results[target] = { ingest: SCORES / ingest.wall, player: player.value, top: top.value, cpu: { ingest: ingest.cpu, player: player.cpu, top: top.cpu } };
        console.log(`leaderboard/${target}: ingest ${Math.round(SCORES / ingest.wall)} scores/s (${ingest.wall.toFixed(1)} s), CPU s ${JSON.stringify(ingest.cpu)}`);
        console.log(`leaderboard/${target}: players/:id?around=5 ${fmt(player.value)}, CPU s ${JSON.stringify(player.cpu)}`);
        console.log(`leaderboard/${target}: top?limit=100 uncached ${fmt(top.value)}, CPU s ${JSON.stringify(top.cpu)}`);
      } finally {
        await Promise.all([api.kill('SIGKILL'), worker.kill('SIGKILL')]);
      }
    }
    const [s, c] = [results.single, results.cluster];
    console.log(
      `leaderboard ratios cluster/single: ingest ${ratio(c.ingest, s.ingest)}, player ${ratio(c.player.rps, s.player.rps)}, top ${ratio(c.top.rps, s.top.rps)}`,
    );
  } finally {
    single.kill('SIGKILL');
  }
}

// ---- 2. ad stream with 1 vs 2 workers ------------------------------------------------------------

async function adStream(): Promise<void> {
  const kafka = new Kafka({ clientId: 'scale-out-bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const rates: Record<number, number> = {};
  try {
    for (const n of [1, 2]) {
      const ns = `so-ads-${n}-${randomBytes(3).toString('hex')}`;
      const topic = `${ns}.ads.events`;
      const workers: AppProcess[] = [];
      for (let i = 0; i < n; i++) workers.push(await app(ns, { REDIS_CLUSTER_NODES: nodes, APP_MODULES: 'ad-analytics', APP_ROLES: 'worker' }));
      try {
        // Every worker is a member with partitions before the clock starts.
        for (;;) {
          const { groups } = await admin.describeGroups([`${ns}.ads.stream`]);
          const g = groups[0];
          const withParts = g.members.filter((m) => Object.values(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}).flat().length > 0);
          if (g.state === 'Stable' && withParts.length === n) break;
          await sleep(500);
        }
        const sc = adScenario(ns, AD_BATCHES, 1000);
        const messages = sc.batches.map((b) => b.map((e) => ({ key: e.impressionId, value: encodeEvent(e) })));
        const total = messages.reduce((a, b) => a + b.length, 0);
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        const counted = async () => {
          let sum = 0;
          for (const w of workers) {
            const text = await (await fetch(`${w.url}/metrics`)).text();
            sum += Number(/^ads_stream_events_total (\d+)/m.exec(text)?.[1] ?? 0);
          }
          return sum;
        };
        const groups: Groups = Object.fromEntries([...workers.map((w, i) => [`worker${i + 1}`, () => tree(w.proc.pid!)]), ['kafka', kafkaPids], ['redis', clusterRedisPids]]);
        const run = await measured(groups, async () => {
          let next = 0;
          await Promise.all(
            Array.from({ length: 4 }, async () => {
              while (next < messages.length) await producer.send({ topic, acks: -1, messages: messages[next++] });
            }),
          );
          while ((await counted()) < total) await sleep(100);
        });
        await producer.disconnect();
        rates[n] = total / run.wall;
        console.log(`ads/${n} worker(s): ${total} events in ${run.wall.toFixed(1)} s = ${Math.round(rates[n])} events/s, CPU s ${JSON.stringify(run.cpu)}`);
      } finally {
        await Promise.all(workers.map((w) => w.kill('SIGKILL')));
      }
    }
    console.log(`ads ratio 2 workers / 1 worker: ${ratio(rates[2], rates[1])}`);
  } finally {
    await admin.disconnect();
  }
}

// ---- 3. HTTP with 1 vs 2 api processes -----------------------------------------------------------

async function httpApis(): Promise<void> {
  const rps: Record<number, number> = {};
  for (const n of [1, 2]) {
    const ns = `so-http-${n}-${randomBytes(3).toString('hex')}`;
    const api = await app(ns, { REDIS_CLUSTER_NODES: nodes, APP_MODULES: 'leaderboard', APP_ROLES: 'api', WEB_CONCURRENCY: String(n) });
    try {
      await sleep(n > 1 ? 10_000 : 0); // the second process listens a little after the first
      const board = `h-${randomBytes(3).toString('hex')}`;
      if ((await call(api.url, 'POST', '/api/v1/leaderboards', { id: board })).status !== 201) throw new Error('create failed');
      const r = await measured({ api: () => tree(api.proc.pid!), redis: clusterRedisPids }, () =>
        autocannon(`${api.url}/api/v1/leaderboards/${board}/top?limit=10`, { connections: 50, seconds, headers: { 'x-api-key': KEY } }),
      );
      rps[n] = r.value.rps;
      console.log(`http/${n} api process(es): top?limit=10 cached ${fmt(r.value)}, CPU s ${JSON.stringify(r.cpu)}`);
    } finally {
      await api.kill('SIGKILL');
    }
  }
  console.log(`http ratio 2 api processes / 1: ${ratio(rps[2], rps[1])}`);
}

// ---- 4. flash sale with 1 vs 2 api processes ----------------------------------------------------

const CAPACITY = 1000;
const FLASH_CONCURRENCY = 100;
// node:http with a keep-alive pool: about half the client CPU of fetch, on a box the load shares.
const agent = new http.Agent({ keepAlive: true, maxSockets: FLASH_CONCURRENCY });
function post(base: string, path: string, body: unknown, headers: Record<string, string>): Promise<number> {
  const payload = JSON.stringify(body);
  const url = new URL(base + path);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function flashSale(): Promise<void> {
  const rates: Record<number, number> = {};
  for (const n of [1, 2]) {
    const ns = `so-flash-${n}-${randomBytes(3).toString('hex')}`;
    const apis: AppProcess[] = [];
    for (let i = 0; i < n; i++) apis.push(await app(ns, { REDIS_CLUSTER_NODES: nodes, APP_MODULES: 'ticketing', APP_ROLES: 'api', TICKETING_HOLD_STRATEGY: 'redis' }));
    try {
      const startsAt = new Date(Date.now() + 86_400_000).toISOString();
      const created = await call(apis[0].url, 'POST', '/api/v1/events', { name: 'flash', startsAt, maxPerUser: 1, generalAdmission: { capacity: CAPACITY, price: 10 } });
      if (created.status !== 201) throw new Error(`create event: ${created.status} ${JSON.stringify(created.body)}`);
      const eventId: string = created.body.id;
      // Warm-up: each process answers one availability read (inventory loaded, connections open).
      for (const a of apis) if ((await call(a.url, 'GET', `/api/v1/events/${eventId}/availability`)).status !== 200) throw new Error('availability');
      const latencies: number[] = [];
      const statuses: Record<number, number> = {};
      const groups: Groups = { ...Object.fromEntries(apis.map((a, i) => [`api${i + 1}`, () => tree(a.proc.pid!)])), redis: clusterRedisPids, kafka: kafkaPids };
      const run = await measured(groups, async () => {
        let next = 0;
        await Promise.all(
          Array.from({ length: FLASH_CONCURRENCY }, async () => {
            while (next < FLASH_USERS) {
              const i = next++;
              const t0 = performance.now();
              const status = await post(apis[i % n].url, `/api/v1/events/${eventId}/holds`, { userId: `fan-${i}`, quantity: 1 }, { 'idempotency-key': `${ns}-${i}` }).catch(() => 0);
              latencies.push(performance.now() - t0);
              statuses[status] = (statuses[status] ?? 0) + 1;
            }
          }),
        );
      });
      latencies.sort((a, b) => a - b);
      const pct = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]);
      const a = (await call(apis[0].url, 'GET', `/api/v1/events/${eventId}/availability`)).body;
      const ok = statuses[201] === CAPACITY && a.held === CAPACITY && a.held + a.sold <= a.capacity && (statuses[201] ?? 0) + (statuses[409] ?? 0) === FLASH_USERS;
      rates[n] = FLASH_USERS / run.wall;
      console.log(
        `flash/${n} api process(es): ${FLASH_USERS} users for ${CAPACITY} places in ${run.wall.toFixed(1)} s = ${Math.round(rates[n])} holds answered/s (p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms), answers ${JSON.stringify(statuses)}, held ${a.held}, ${ok ? 'checks OK' : 'CHECKS FAILED'}, CPU s ${JSON.stringify(run.cpu)}`,
      );
      if (!ok) throw new Error(`flash sale checks failed: ${JSON.stringify({ statuses, availability: a })}`);
    } finally {
      await Promise.all(apis.map((a) => a.kill('SIGKILL')));
    }
  }
  console.log(`flash ratio 2 api processes / 1: ${ratio(rates[2], rates[1])}`);
}

async function main() {
  if (!nodes || brokers.length === 0 || !clusterDir) throw new Error('set REDIS_CLUSTER_NODES, KAFKA_BROKERS (scripts/cluster.sh env) and CLUSTER_DIR');
  console.log(`scale-out bench ${new Date().toISOString()}: ${seconds} s per load, Redis Cluster ${nodes}, Kafka ${brokers.join(',')}`);
  if (parts.includes('lb')) await leaderboard();
  if (parts.includes('ads')) await adStream();
  if (parts.includes('http')) await httpApis();
  if (parts.includes('flash')) await flashSale();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
