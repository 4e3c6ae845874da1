/**
 * Leaderboard read path under load: GET top?limit=100 (served by the top-K cache) and
 * GET players/:id?around=5 (uncached: rank + neighbours) on a 200,000-player board, beside a bare
 * Fastify JSON route in the same run. Full profile (PostgreSQL, Redis, Kafka on 127.0.0.1) when all
 * three answer, else embedded. On Redis it also reports bytes per player (MEMORY USAGE).
 *   npx ts-node --transpile-only bench/leaderboard/read.bench.ts [seconds=10] [connections=50] [players=200000]
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import Fastify from 'fastify';
import Redis from 'ioredis';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { LeaderboardService } from '../../src/modules/leaderboard';
import { autocannon } from '../support/autocannon';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const players = Number(process.argv[4] ?? 200_000);
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

function run(url: string, headers: Record<string, string> = {}) {
  return autocannon(url, { connections, seconds, headers });
}

async function main() {
  const full = (await Promise.all([6379, 5432, 9092].map(reachable))).every(Boolean);
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
  const app = await createApp(config, []);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  const svc = app.get(LeaderboardService);

  const boardId = `bench-${randomBytes(4).toString('hex')}`;
  const board = await svc.create({ id: boardId, updatePolicy: 'best' });
  // Fast path: straight into the rank store (the consumer's apply), skipping the log.
  const fillStart = Date.now();
  const seq0 = Date.now() * 1000;
  for (let i = 0; i < players; i += 2000) {
    const writes = [];
    for (let j = i; j < Math.min(players, i + 2000); j++) {
      writes.push({ playerId: `p${j}`, score: Math.floor(Math.random() * 1_000_000), messageId: `m${j}`, seq: seq0 + j });
    }
    await svc.ranks.apply(board, board.season, writes);
  }
  const fillSeconds = (Date.now() - fillStart) / 1000;

  let memory: Record<string, number> | undefined;
  if (full) {
    const redis = new Redis(config.REDIS_URL!);
    const find = async (pattern: string) => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      return keys;
    };
    const [z] = await find(`*{${boardId}#1#0}:z`);
    const [m] = await find(`*{${boardId}#1#0}:m`);
    const count = await redis.zcard(z);
    const zBytes = Number(await redis.call('MEMORY', 'USAGE', z, 'SAMPLES', '0'));
    const mBytes = Number(await redis.call('MEMORY', 'USAGE', m, 'SAMPLES', '0'));
    // Each write also leaves a 24 h dedupe key: sample 1,000 of them.
    const dd = (await find(`*{${boardId}#1#0}:dd:*`)).slice(0, 1000);
    let ddBytes = 0;
    for (const k of dd) ddBytes += Number(await redis.call('MEMORY', 'USAGE', k));
    memory = {
      players: count,
      sortedSetBytesPerPlayer: +(zBytes / count).toFixed(1),
      memberHashBytesPerPlayer: +(mBytes / count).toFixed(1),
      dedupeKeyBytesPerWrite: dd.length ? +(ddBytes / dd.length).toFixed(1) : 0,
    };
    await redis.quit();
  }

  const bare = Fastify();
  bare.get('/bench', async () => ({ ok: true, n: 42 }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as { port: number }).port;

  const h = { 'x-api-key': KEY };
  const base = `http://127.0.0.1:${port}/api/v1/leaderboards/${boardId}`;
  const probe = `p${Math.floor(players / 2)}`;
  const baseline = await run(`http://127.0.0.1:${barePort}/bench`);
  const top = await run(`${base}/top?limit=100`, h);
  const player = await run(`${base}/players/${probe}?around=5`, h);
  console.log(
    JSON.stringify(
      {
        profile: full ? 'full' : 'embedded',
        players,
        fillSeconds,
        seconds,
        connections,
        topCacheMs: svc.topCacheMs,
        baseline,
        top,
        player,
        ratios: { top: +(top.rps / baseline.rps).toFixed(3), player: +(player.rps / baseline.rps).toFixed(3) },
        ...(memory ? { memory } : {}),
      },
      null,
      2,
    ),
  );
  await svc.ranks.dropSeason(boardId, board.season);
  await bare.close();
  await app.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
