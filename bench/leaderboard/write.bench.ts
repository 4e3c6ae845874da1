/**
 * Leaderboard write ingest, end to end on the full profile: HTTP `scores:batch` (1,000 entries per
 * request) → 202 once Kafka has them (acks=all) → the consumer in a separate worker process
 * (src/main.ts, APP_ROLES=worker) → Redis. Scores/s counts from the first request until the last
 * score is visible in the rank store (ZCARD over the shards), so it is the rate the board really
 * absorbs. Beside it, in the same run: raw kafkajs produce of the same messages (idempotent,
 * acks=all, same batching and concurrency) and raw Redis ZADD with the same pipelining
 * (redis-benchmark and ioredis), the two halves' ceilings.
 * Visibility lag: every 20 ms the bench notes how many scores were acknowledged and how many are
 * visible; a sample's lag is the time until the visible count reaches what was acknowledged then.
 * With a rate (scores/s) the batches are paced, e.g. at the seed's 6,000 writes/s peak.
 *   npx ts-node --transpile-only bench/leaderboard/write.bench.ts [scores=200000] [inFlight=4] [shards=1] [rate=0: unpaced]
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { BoardService, LeaderboardService, RankStore } from '../../src/modules/leaderboard';
import { scanKeys } from '../support/redis';

const total = Number(process.argv[2] ?? 200_000);
const inFlight = Number(process.argv[3] ?? 4);
const shards = Number(process.argv[4] ?? 1);
const rate = Number(process.argv[5] ?? 0);
const BATCH = 1000;
const KEY = 'bench-service-key';
const ROOT = join(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const env = {
  APP_PROFILE: 'full',
  NAMESPACE: `wbench-${randomBytes(3).toString('hex')}`,
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  KAFKA_PARTITIONS: '6',
  APP_MODULES: 'leaderboard',
  RATE_LIMIT_PER_SECOND: '0',
  LOG_LEVEL: 'warn',
  API_KEYS: `service:${KEY},admin:bench-admin-key`,
};

/** Runs `fn(i)` for i in [0, n) with at most `width` in flight. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function batchBody(b: number): string {
  const scores = [];
  for (let j = 0; j < BATCH; j++) {
    const i = b * BATCH + j;
    scores.push({ playerId: `p${i}`, score: (i * 7919) % 1_000_000 });
  }
  return JSON.stringify({ scores });
}

async function endToEnd(boards: BoardService, ranks: RankStore, url: string, boardId: string) {
  const board = await boards.board(boardId);
  const batches = Math.ceil(total / BATCH);
  const bodies = Array.from({ length: batches }, (_, b) => batchBody(b));
  const t0 = performance.now();
  let ackedAt = 0;
  let acked = 0;
  const latencies: number[] = [];
  const samples: { t: number; acked: number; visible: number }[] = [];
  const sampler = (async () => {
    // ZCARD over the shards until every score is in.
    for (;;) {
      const t = performance.now();
      const a = acked;
      const n = await ranks.total(board, board.season);
      samples.push({ t, acked: a, visible: n });
      if (n >= total) return performance.now();
      await sleep(20);
    }
  })();
  await pool(batches, inFlight, async (b) => {
    if (rate > 0) await sleep(t0 + (b * BATCH * 1000) / rate - performance.now());
    const s = performance.now();
    const r = await fetch(`${url}/api/v1/leaderboards/${boardId}/scores:batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: bodies[b],
    });
    if (r.status !== 202) throw new Error(`batch answered ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
    acked += BATCH;
    latencies.push(performance.now() - s);
  });
  ackedAt = performance.now();
  const visibleAt = await sampler;
  latencies.sort((a, b) => a - b);
  const lags: number[] = [];
  let j = 0;
  samples.forEach((s, i) => {
    if (s.acked === 0) return;
    j = Math.max(j, i); // both counts only grow: the answer is at or after this sample
    while (j < samples.length && samples[j].visible < s.acked) j++;
    lags.push((j < samples.length ? samples[j].t : visibleAt) - s.t);
  });
  lags.sort((a, b) => a - b);
  const pct = (xs: number[], p: number) => Math.round(xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]);
  return {
    scores: total,
    pacedScoresPerSec: rate || 'unpaced',
    ackSeconds: +((ackedAt - t0) / 1000).toFixed(2),
    visibleSeconds: +((visibleAt - t0) / 1000).toFixed(2),
    ackedScoresPerSec: Math.round(total / ((ackedAt - t0) / 1000)),
    scoresPerSec: Math.round(total / ((visibleAt - t0) / 1000)),
    visibilityLagP50Ms: pct(lags, 0.5),
    visibilityLagP99Ms: pct(lags, 0.99),
    batchP50Ms: pct(latencies, 0.5),
    batchP99Ms: pct(latencies, 0.99),
  };
}

async function rawKafka(topic: string) {
  const kafka = new Kafka({ clientId: 'wbench-raw', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6, replicationFactor: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const batches = Math.ceil(total / BATCH);
  const seq0 = Date.now() * 1000;
  const t0 = performance.now();
  await pool(batches, inFlight, async (b) => {
    const messages = [];
    for (let j = 0; j < BATCH; j++) {
      const i = b * BATCH + j;
      const id = randomBytes(16).toString('hex');
      const value = JSON.stringify({ boardId: 'raw', playerId: `p${i}`, score: (i * 7919) % 1_000_000, messageId: id, seq: seq0 + i });
      messages.push({ key: `raw:p${i}`, value, headers: { 'message-id': id } });
    }
    await producer.send({ topic, acks: -1, messages });
  });
  const s = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return { scoresPerSec: Math.round(total / s), seconds: +s.toFixed(2) };
}

/** ZADD of the same number of members, BATCH per auto-pipelined burst, inFlight bursts at a time. */
async function rawIoredis(key: string) {
  const redis = new Redis(env.REDIS_URL, { enableAutoPipelining: true });
  const batches = Math.ceil(total / BATCH);
  const t0 = performance.now();
  await pool(batches, inFlight, async (b) => {
    const ps = [];
    for (let j = 0; j < BATCH; j++) {
      const i = b * BATCH + j;
      ps.push(redis.zadd(key, (i * 7919) % 1_000_000, `p${i}`));
    }
    await Promise.all(ps);
  });
  const s = (performance.now() - t0) / 1000;
  await redis.del(key);
  await redis.quit();
  return { scoresPerSec: Math.round(total / s), seconds: +s.toFixed(2) };
}

async function redisBenchmark(key: string) {
  const port = new URL(env.REDIS_URL).port || '6379';
  try {
    const { stdout } = await promisify(execFile)('redis-benchmark', [
      '-p', port, '-q', '-n', String(total), '-c', String(inFlight), '-P', String(BATCH), '-r', '1000000',
      'ZADD', key, '__rand_int__', 'p__rand_int__',
    ]);
    const m = /([\d.]+) requests per second/.exec(stdout);
    return { scoresPerSec: m ? Math.round(Number(m[1])) : null, pipeline: BATCH, clients: inFlight };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    const r = new Redis(env.REDIS_URL);
    await r.del(key);
    await r.quit();
  }
}

function spawnWorker(): ChildProcess {
  // WORKER_NODE_ARGS: extra node flags for the worker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env.WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, [...extra, '-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, APP_ROLES: 'worker', PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function main() {
  const config = loadConfig({ ...env, APP_ROLES: 'api' });
  const app = await createApp(config, []);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const svc = app.get(LeaderboardService);
  const boards = app.get(BoardService);
  const ranks = app.get(RankStore);
  const worker = spawnWorker();
  try {
    // Warm-up: the worker has joined its group and applies writes; the API has a producer.
    const warmId = `warm-${randomBytes(3).toString('hex')}`;
    const warm = await boards.create({ id: warmId });
    await svc.submit(warmId, [{ playerId: 'w', score: 1 }]);
    while ((await ranks.total(warm, warm.season)) < 1) await sleep(100);

    const boardId = `wbench-${randomBytes(4).toString('hex')}`;
    await boards.create({ id: boardId, shards });
    const e2e = await endToEnd(boards, ranks, url, boardId);
    const board = await boards.board(boardId);
    // Dedupe state left by the writes: the per-player position hash, and any 24 h message-id keys.
    const redis = new Redis(env.REDIS_URL);
    const prefix = `${env.NAMESPACE}:lb:${boardId}:{${boardId}#${board.season}#0}`;
    const shard0 = await redis.zcard(`${prefix}:z`);
    const dedupe = {
      positionHashBytesPerPlayer: +(Number(await redis.call('MEMORY', 'USAGE', `${prefix}:o`, 'SAMPLES', '0')) / shard0).toFixed(1),
      messageIdKeys: (await scanKeys(redis, `${env.NAMESPACE}:lb:${boardId}:*:dd:*`)).length,
    };
    await redis.quit();
    await ranks.dropSeason(boardId, board.season);
    await ranks.dropSeason(warmId, warm.season);

    const kafka = await rawKafka(`${env.NAMESPACE}.raw-bench`);
    const zaddKey = `${env.NAMESPACE}:raw-zadd`;
    const ioredisZadd = await rawIoredis(zaddKey);
    const benchZadd = await redisBenchmark(zaddKey);
    console.log(
      JSON.stringify(
        {
          scores: total,
          batch: BATCH,
          inFlight,
          shards,
          endToEnd: e2e,
          dedupe,
          rawKafkaProduce: kafka,
          rawIoredisZadd: ioredisZadd,
          redisBenchmarkZadd: benchZadd,
          ratios: {
            vsKafka: +(e2e.scoresPerSec / kafka.scoresPerSec).toFixed(3),
            vsIoredisZadd: +(e2e.scoresPerSec / ioredisZadd.scoresPerSec).toFixed(3),
            ...(benchZadd.scoresPerSec ? { vsRedisBenchmarkZadd: +(e2e.scoresPerSec / benchZadd.scoresPerSec).toFixed(3) } : {}),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    worker.kill('SIGTERM');
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
