/**
 * Leaderboard read path under load: GET top?limit=100 (served by the top-K cache) and
 * GET players/:id?around=5 (uncached: rank + neighbours) on boards of 1,000,000 players (one board
 * per shard count, same data), beside a bare Fastify JSON route and an empty route through the
 * platform's HTTP stack (Nest, API-key guard, validation, logging, metrics) in the same run.
 * Full profile (PostgreSQL, Redis, Kafka on 127.0.0.1) when all three answer, else embedded. On
 * Redis it also reports bytes per player (MEMORY USAGE).
 * BENCH_TARGETS=top:1,player:16 (names as printed) loads only those, e.g. for a `node --cpu-prof` of one.
 *   [BENCH_PROFILE=embedded] npx ts-node --transpile-only bench/leaderboard/read.bench.ts [seconds=5] [connections=50] [players=1000000] [shards=1,16] [rounds=3]
 */
import { Module } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import Fastify from 'fastify';
import Redis from 'ioredis';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { BoardService, LeaderboardService, RankStore } from '../../src/modules/leaderboard';
import { autocannonWithCpu, LoadResult } from '../support/autocannon';
import { EmptyRouteController } from '../support/empty-route';
import { scanKeys } from '../support/redis';

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 50);
const players = Number(process.argv[4] ?? 1_000_000);
const shardCounts = (process.argv[5] ?? '1,16').split(',').map(Number);
const rounds = Number(process.argv[6] ?? 3);
const KEY = 'bench-client-key';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(500);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

@Module({ controllers: [EmptyRouteController] })
class EmptyModule {}

/** The bare route, the app and the bench share this process: see autocannonWithCpu. */
const run = (url: string, headers: Record<string, string> = {}) => autocannonWithCpu(url, { connections, seconds, headers });

async function main() {
  const full = process.env.BENCH_PROFILE !== 'embedded' && (await Promise.all([6379, 5432, 9092].map(reachable))).every(Boolean);
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    API_KEYS: `client:${KEY}`,
    RATE_LIMIT_PER_SECOND: '0',
    APP_MODULES: 'leaderboard',
    APP_ROLES: 'api',
    ...(full
      ? {
          APP_PROFILE: 'full',
          NAMESPACE: `bench-${randomBytes(3).toString('hex')}`,
          DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
        }
      : { DATA_DIR: 'memory' }),
  });
  const app = await createApp(config, [EmptyModule]);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  const svc = app.get(LeaderboardService);
  const registry = app.get(BoardService);
  const ranks = app.get(RankStore);

  // Same players and scores on every board, applied as writes from the log (one position each).
  const tag = randomBytes(4).toString('hex');
  const boards = [];
  const fillStart = Date.now();
  const seq0 = Date.now() * 1000;
  const scores = Array.from({ length: players }, () => Math.floor(Math.random() * 1_000_000));
  for (const shards of shardCounts) {
    const board = await registry.create({ id: `bench-${tag}-s${shards}`, updatePolicy: 'best', shards });
    for (let i = 0; i < players; i += 20_000) {
      const part = [];
      for (let j = i; j < Math.min(players, i + 20_000); j++) part.push({ playerId: `p${j}`, score: scores[j], seq: seq0 + j, messageId: `m${j}`, position: `0:${j}` });
      await ranks.apply(board, board.season, part);
    }
    boards.push(board);
  }
  const fillSeconds = (Date.now() - fillStart) / 1000;
  const boardId = boards[0].id;

  let memory: Record<string, number> | undefined;
  if (full) {
    const redis = new Redis(config.REDIS_URL!);
    const [z] = await scanKeys(redis, `*{${boardId}#1#0}:z`);
    const [m] = await scanKeys(redis, `*{${boardId}#1#0}:m`);
    const count = await redis.zcard(z);
    const zBytes = Number(await redis.call('MEMORY', 'USAGE', z, 'SAMPLES', '0'));
    const mBytes = Number(await redis.call('MEMORY', 'USAGE', m, 'SAMPLES', '0'));
    memory = {
      players: count,
      sortedSetBytesPerPlayer: +(zBytes / count).toFixed(1),
      memberHashBytesPerPlayer: +(mBytes / count).toFixed(1),
    };
    await redis.quit();
  }

  const bare = Fastify();
  bare.get('/bench', async () => ({ ok: true, n: 42 }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as { port: number }).port;

  const h = { 'x-api-key': KEY };
  const probe = `p${Math.floor(players / 2)}`;
  // Targets run interleaved in `rounds` rounds and each reports its median round: on a shared box
  // a burst of someone else's load then skews one round of every target, not one target.
  const targets: [string, string, Record<string, string>][] = [
    ['bare', `http://127.0.0.1:${barePort}/bench`, {}],
    ['platform', `http://127.0.0.1:${port}/api/v1/bench`, h],
  ];
  for (const board of boards) {
    const base = `http://127.0.0.1:${port}/api/v1/leaderboards/${board.id}`;
    targets.push([`top:${board.shards}`, `${base}/top?limit=100`, h], [`player:${board.shards}`, `${base}/players/${probe}?around=5`, h]);
  }
  const results = new Map<string, (LoadResult & { cpuUsPerReq: number })[]>();
  const only = process.env.BENCH_TARGETS?.split(',');
  for (let r = 0; r < rounds; r++) {
    for (const [name, url, headers] of targets) {
      if (only && !only.includes(name)) continue;
      const list = results.get(name) ?? [];
      list.push(await run(url, headers));
      results.set(name, list);
    }
  }
  const median = (name: string) => {
    const list = [...(results.get(name) ?? [])].sort((a, b) => a.rps - b.rps);
    return list[Math.floor(list.length / 2)] ?? { rps: NaN, p50: NaN, p99: NaN, errors: 0, cpuUsPerReq: NaN };
  };
  const baseline = median('bare');
  const platform = median('platform');
  const ratio = (r: { rps: number; cpuUsPerReq: number }) => ({
    toBare: +(r.rps / baseline.rps).toFixed(3),
    toPlatform: +(r.rps / platform.rps).toFixed(3),
    cpuToBare: +(baseline.cpuUsPerReq / r.cpuUsPerReq).toFixed(3),
  });
  const perBoard: Record<string, unknown> = {};
  for (const board of boards) {
    const top = median(`top:${board.shards}`);
    const player = median(`player:${board.shards}`);
    perBoard[`shards=${board.shards}`] = { top, player, ratios: { top: ratio(top), player: ratio(player) } };
  }
  console.log(
    JSON.stringify(
      { profile: full ? 'full' : 'embedded', players, fillSeconds, seconds, rounds, connections, topCacheMs: svc.topCacheMs, baseline, platform, ...perBoard, ...(memory ? { memory } : {}) },
      null,
      2,
    ),
  );
  for (const board of boards) await ranks.dropSeason(board.id, board.season);
  await bare.close();
  await app.close();
}

main().then(
  () => process.exit(0), // kafkajs/ioredis timers may outlive app.close() by a few seconds
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
