import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { http, KEYS, pollUntil, startTestApp, TestApp } from '../support/app';

/** Kafka and Redis on a shared box: allow 30 s. */
const until = <T>(fn: () => Promise<T>, ok: (v: T) => boolean) => pollUntil(fn, ok, 30000, 50);

/** Smoke test on the full profile: PostgreSQL registry, Redis sorted sets + Lua, Kafka write path. */
describe('leaderboard (full profile: PostgreSQL, Redis, Kafka)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: 'full', RATE_LIMIT_PER_SECOND: '0', APP_MODULES: 'leaderboard' });
  }, 120000);
  afterAll(() => t?.close());

  it('accepts writes through Kafka and ranks them in Redis with ties, increments and resets', async () => {
    // The registry lives in a shared database: unique ids per run.
    const id = `smoke-${randomBytes(4).toString('hex')}`;
    const inc = `${id}-inc`;
    expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id, shards: 3 } })).status).toBe(201);
    expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id: inc, updatePolicy: 'increment' } })).status).toBe(201);
    const scores = Array.from({ length: 30 }, (_, i) => ({ playerId: `p${i}`, score: i % 10, metadata: { i } }));
    expect((await http(t.url, 'POST', `/api/v1/leaderboards/${id}/scores:batch`, { key: KEYS.service, body: { scores } })).status).toBe(202);
    const put = (p: string, score: number, key: string) =>
      http(t.url, 'PUT', `/api/v1/leaderboards/${inc}/scores/${p}`, { key: KEYS.service, body: { score }, headers: { 'idempotency-key': key } });
    await put('a', 5, 'k1');
    await put('a', 5, 'k1');
    await put('a', 2, 'k2');

    const top = await until(
      () => http(t.url, 'GET', `/api/v1/leaderboards/${id}/top?limit=30`, { key: KEYS.client }),
      (r) => r.body?.total === 30,
    );
    expect(top.body.entries.slice(0, 3).map((e: { playerId: string }) => e.playerId)).toEqual(['p9', 'p19', 'p29']);
    expect(top.body.entries[0].metadata).toEqual({ i: 9 });
    const me = await http(t.url, 'GET', `/api/v1/leaderboards/${id}/players/p19?around=1`, { key: KEYS.client });
    expect(me.body).toMatchObject({ rank: 2, total: 30 });
    expect(me.body.neighbours.map((n: { playerId: string }) => n.playerId)).toEqual(['p9', 'p19', 'p29']);

    const a = await until(
      () => http(t.url, 'GET', `/api/v1/leaderboards/${inc}/players/a?around=0`, { key: KEYS.client }),
      (r) => r.body?.score === 7,
    );
    expect(a.body.score).toBe(7);

    // Dedupe keys exist only for caller-chosen ids (k1, k2); log redeliveries are caught by position.
    const redis = new Redis(t.config.REDIS_URL!);
    const ddKeys = async (board: string) => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${t.config.NAMESPACE}:lb:${board}:*:dd:*`, 'COUNT', 1000);
        found.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      return found;
    };
    expect(await ddKeys(id)).toEqual([]);
    expect((await ddKeys(inc)).length).toBe(2);
    await redis.quit();

    const reset = await http(t.url, 'POST', `/api/v1/leaderboards/${id}/reset`, { key: KEYS.admin });
    expect(reset.body).toMatchObject({ archivedSeason: 1, archivedEntries: 30 });
    const archived = await http(t.url, 'GET', `/api/v1/leaderboards/${id}/seasons/1/top?limit=30`, { key: KEYS.client });
    expect(archived.body.entries).toEqual(top.body.entries);
  }, 90000);

  it('on Redis, a 5-shard board ranks exactly like a 1-shard one, ties included (2,000 random players)', async () => {
    const tag = randomBytes(4).toString('hex');
    const [single, sharded] = [`eq1-${tag}`, `eq5-${tag}`];
    for (const [id, shards] of [[single, 1], [sharded, 5]] as const) {
      expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id, shards } })).status).toBe(201);
    }
    // Few distinct scores: most players tie with others on other shards.
    const entries = Array.from({ length: 2000 }, (_, i) => ({ playerId: `u${i}`, score: Math.floor(Math.random() * 40) }));
    for (let i = 0; i < entries.length; i += 1000) {
      // One request per slice and board: both boards get the same acceptance order (seq).
      for (const id of [single, sharded]) {
        const r = await http(t.url, 'POST', `/api/v1/leaderboards/${id}/scores:batch`, { key: KEYS.service, body: { entries: entries.slice(i, i + 1000) } });
        expect(r.status).toBe(202);
      }
    }
    for (const id of [single, sharded]) {
      await until(() => http(t.url, 'GET', `/api/v1/leaderboards/${id}/top?limit=1`, { key: KEYS.client }), (r) => r.body?.total === 2000);
    }
    const strip = (e: { rank: number; playerId: string; score: number }) => [e.rank, e.playerId, e.score];
    const sample = Array.from({ length: 100 }, (_, i) => `u${i * 20}`);
    const [a, b] = await Promise.all(
      [single, sharded].map((id) => http(t.url, 'POST', `/api/v1/leaderboards/${id}/ranks`, { key: KEYS.client, body: { playerIds: sample } })),
    );
    // Both boards got the entries in the same relative order, so ties break the same way.
    expect(b.body.entries).toEqual(a.body.entries);
    expect(a.body.entries.every((e: { rank: number | null }) => typeof e.rank === 'number')).toBe(true);
    // Exact ranks and neighbours (SHARD_VIEW script) against the merged top lists.
    const views: unknown[] = [];
    for (const [id, res] of [[single, a], [sharded, b]] as const) {
      const top = await http(t.url, 'GET', `/api/v1/leaderboards/${id}/top?limit=1000&offset=1000`, { key: KEYS.client });
      const head = await http(t.url, 'GET', `/api/v1/leaderboards/${id}/top?limit=1000`, { key: KEYS.client });
      const byPlayer = new Map([...head.body.entries, ...top.body.entries].map((e: { rank: number; playerId: string; score: number }) => [e.playerId, e]));
      for (const e of res.body.entries) expect([e.rank, e.playerId, e.score]).toEqual(strip(byPlayer.get(e.playerId)!));
      for (const p of ['u0', 'u777', 'u1999']) {
        const v = await http(t.url, 'GET', `/api/v1/leaderboards/${id}/players/${p}?around=4`, { key: KEYS.client });
        const me = byPlayer.get(p)!;
        expect(v.body).toMatchObject({ rank: me.rank, score: me.score, total: 2000 });
        const all = [...head.body.entries, ...top.body.entries];
        const expected = all.filter((e: { rank: number }) => Math.abs(e.rank - me.rank) <= 4).map(strip);
        expect(v.body.neighbours.map(strip)).toEqual(expected);
        views.push(v.body.neighbours.map(strip));
      }
    }
    expect(views.slice(3)).toEqual(views.slice(0, 3));
  }, 90000);
});
