import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { groupName, topicName } from '../../src/platform/messaging/topics';
import { http, KEYS, startTestApp, TestApp } from '../support/app';
import { PrivateRedis } from '../support/processes';

/**
 * Fault tests on the full profile (PostgreSQL, Kafka, Redis), all on an `increment` board: a
 * score that is lost or applied twice shows up as a wrong sum.
 *  1. The consumer process (worker role) is SIGKILLed mid-stream, its group rewound to the start of
 *     the log (so everything is redelivered), and started again.
 *  2. A private redis-server (AOF, appendfsync always) is SIGKILLed mid-stream and restarted.
 * Every 202 is recorded; the final board must equal the sums of exactly the acknowledged writes.
 */
const ROOT = join(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined as T);
    if (ok(v) || Date.now() > end) return v;
    await sleep(100);
  }
}

/** Writes increments in batches and records what was acknowledged (202) per player. */
class Writer {
  readonly expected = new Map<string, number>();
  batches = 0;
  private stopped = false;
  private done?: Promise<void>;
  constructor(
    private readonly url: string,
    private readonly boardId: string,
    private readonly players: number,
  ) {}

  start(batchSize: number, pauseMs: number): void {
    this.done = (async () => {
      while (!this.stopped) {
        const scores = Array.from({ length: batchSize }, () => ({
          playerId: `p${Math.floor(Math.random() * this.players)}`,
          score: 1 + Math.floor(Math.random() * 100),
        }));
        const r = await http(this.url, 'POST', `/api/v1/leaderboards/${this.boardId}/scores:batch`, { key: KEYS.service, body: { entries: scores } });
        if (r.status !== 202) throw new Error(`batch answered ${r.status}: ${JSON.stringify(r.body)}`);
        for (const s of scores) this.expected.set(s.playerId, (this.expected.get(s.playerId) ?? 0) + s.score);
        this.batches++;
        await sleep(pauseMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  get total(): number {
    let n = 0;
    for (const v of this.expected.values()) n += v;
    return n;
  }
}

/** The board's full standings as playerId → score (≤ 1000 players). */
async function standings(url: string, boardId: string): Promise<Map<string, number>> {
  const r = await http(url, 'GET', `/api/v1/leaderboards/${boardId}/top?limit=1000`, { key: KEYS.client });
  if (r.status !== 200) throw new Error(`top answered ${r.status}`);
  return new Map((r.body.entries as { playerId: string; score: number }[]).map((e) => [e.playerId, e.score]));
}

const sum = (m: Map<string, number> | undefined) => (m ? [...m.values()].reduce((a, b) => a + b, 0) : 0);

describe('leaderboard fault tolerance (full profile)', () => {
  const base = {
    APP_PROFILE: 'full',
    RATE_LIMIT_PER_SECOND: '0',
    APP_MODULES: 'leaderboard',
    // The top-K cache would only delay the final comparison.
    LEADERBOARD_TOP_CACHE_MS: '0',
    // A SIGKILLed consumer holds its partitions until its session expires: keep that short.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  };

  describe('consumer killed mid-stream', () => {
    let t: TestApp;
    let worker: ChildProcess | undefined;
    let workerLog = '';

    /** `APP_ROLES=worker` in its own process: the same entry point as production (src/main.ts). */
    function spawnWorker(): ChildProcess {
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        APP_PROFILE: 'full',
        APP_ROLES: 'worker',
        APP_MODULES: 'leaderboard',
        NAMESPACE: t.config.NAMESPACE,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        DATABASE_URL: t.config.DATABASE_URL!,
        REDIS_URL: t.config.REDIS_URL!,
        KAFKA_BROKERS: t.config.KAFKA_BROKERS.join(','),
        KAFKA_PARTITIONS: String(t.config.KAFKA_PARTITIONS),
        KAFKA_SESSION_TIMEOUT_MS: base.KAFKA_SESSION_TIMEOUT_MS,
        API_KEYS: `admin:${KEYS.admin}`,
      };
      const p = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.on('data', (d: Buffer) => (workerLog = (workerLog + d.toString()).slice(-4000)));
      p.stderr!.on('data', (d: Buffer) => (workerLog = (workerLog + d.toString()).slice(-4000)));
      return p;
    }

    async function kill(p: ChildProcess | undefined): Promise<void> {
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      });
    }

    beforeAll(async () => {
      // The API process has no consumer: only the spawned worker applies scores.
      t = await startTestApp({ ...base, APP_ROLES: 'api' });
    }, 120000);
    afterAll(async () => {
      await kill(worker);
      await t?.close();
    });

    it('loses no acknowledged write and applies none twice; a DELETE while writes are queued keeps its order', async () => {
      const id = `kill-${randomBytes(4).toString('hex')}`;
      expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id, updatePolicy: 'increment', shards: 4 } })).status).toBe(201);
      const put = (p: string, score: number) =>
        http(t.url, 'PUT', `/api/v1/leaderboards/${id}/scores/${p}`, { key: KEYS.service, body: { score } });
      const playerScore = async (p: string) =>
        (await http(t.url, 'GET', `/api/v1/leaderboards/${id}/players/${p}?around=0`, { key: KEYS.client })).body?.score as number | undefined;

      worker = spawnWorker();
      expect((await put('cheater', 1000)).status).toBe(202);
      expect(await until(() => playerScore('cheater'), (s) => s === 1000, 60000)).toBe(1000);

      const w = new Writer(t.url, id, 400);
      w.start(500, 20);
      // Mid-stream: the worker has applied part of the stream and more keeps arriving.
      const before = await until(() => standings(t.url, id), (m) => sum(m) - 1000 > 0 && w.batches >= 10, 30000);
      await kill(worker);
      const appliedAtKill = sum(before) - 1000;
      expect(appliedAtKill).toBeGreaterThan(0);
      expect(w.batches).toBeGreaterThan(0);

      // No consumer now: these wait in the log. The write accepted before the DELETE must not
      // re-add the player when it is finally applied; the one accepted after it must apply.
      expect((await put('cheater', 5)).status).toBe(202);
      expect((await http(t.url, 'DELETE', `/api/v1/leaderboards/${id}/players/cheater`, { key: KEYS.admin })).status).toBe(204);
      expect((await put('cheater', 3)).status).toBe(202);

      // Make the redelivery certain rather than a matter of where the kill fell: once the dead
      // member's session has expired, rewind the group to the start of the log. The new worker
      // then receives every message again, all those already applied included; only the dedupe
      // by message id keeps the increments from doubling.
      const kafka = new Kafka({ clientId: 'lb-faults', brokers: t.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const groupId = groupName(t.config, 'leaderboard.scores-applier');
      const empty = await until(
        async () => (await admin.describeGroups([groupId])).groups[0],
        (g) => g?.state === 'Empty',
        30000,
      );
      expect(empty.state).toBe('Empty');
      await admin.resetOffsets({ groupId, topic: topicName(t.config, 'leaderboard.scores'), earliest: true });
      await admin.disconnect();
      worker = spawnWorker();
      await sleep(3000);
      await w.stop();
      expect(w.total).toBeGreaterThan(appliedAtKill); // writes went on while the consumer was down

      const final = await until(() => standings(t.url, id), (m) => sum(m) === w.total + 3, 60000);
      if (sum(final) !== w.total + 3) throw new Error(`board sum ${sum(final)} != acknowledged ${w.total + 3}; worker log:\n${workerLog}`);
      const expected = new Map(w.expected);
      expected.set('cheater', 3);
      expect(final).toEqual(expected);
      await sleep(1500); // nothing more arrives later (a double apply would be late, not missing)
      expect(await standings(t.url, id)).toEqual(expected);
    }, 150000);
  });

  describe('Redis killed and restarted (AOF)', () => {
    const redis = new PrivateRedis(20000 + Math.floor(Math.random() * 20000));
    let t: TestApp;

    beforeAll(async () => {
      await redis.start();
      // Every write is on disk before Redis answers it, so a kill -9 of the host loses nothing
      // the consumer has committed (with everysec a host crash could lose up to a second).
      const c = new Redis(redis.url);
      await c.config('SET', 'appendfsync', 'always');
      await c.quit();
      t = await startTestApp({ ...base, REDIS_URL: redis.url });
    }, 120000);
    afterAll(async () => {
      await t?.close();
      await redis.stop();
    });

    it('ranks survive the restart and every acknowledged write is applied exactly once', async () => {
      const id = `aof-${randomBytes(4).toString('hex')}`;
      expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id, updatePolicy: 'increment', shards: 3 } })).status).toBe(201);
      const w = new Writer(t.url, id, 300);
      w.start(300, 20);
      const before = await until(() => standings(t.url, id), (m) => sum(m) > 0 && w.batches >= 10, 30000);
      expect(sum(before)).toBeGreaterThan(0);

      await redis.stop(); // SIGKILL mid-stream; writes keep being acknowledged (Kafka has them)
      const batchesAtKill = w.batches;
      await sleep(1500);
      await redis.start(); // same dir: AOF replay
      const c = new Redis(redis.url);
      // What was applied before the kill is back after the replay, before the consumer catches up.
      const persisted = sum(await until(() => standings(t.url, id), (m) => m !== undefined, 20000));
      expect(persisted).toBeGreaterThan(0);
      await sleep(2000);
      await w.stop();
      expect(w.batches).toBeGreaterThan(batchesAtKill);

      const final = await until(() => standings(t.url, id), (m) => sum(m) === w.total, 60000);
      expect(sum(final)).toBe(w.total);
      expect(final).toEqual(w.expected);
      await sleep(1500);
      expect(await standings(t.url, id)).toEqual(w.expected);
      expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await c.quit();
    }, 120000);
  });
});
