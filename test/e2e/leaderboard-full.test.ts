import { randomBytes } from 'node:crypto';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

/** Smoke test on the full profile: PostgreSQL registry, Redis sorted sets + Lua, Kafka write path. */
describe('leaderboard (full profile: PostgreSQL, Redis, Kafka)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: 'full', RATE_LIMIT_PER_SECOND: '0', APP_MODULES: 'leaderboard' });
  }, 120000);
  afterAll(() => t?.close());

  async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (ok(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

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
    expect(me.body.neighbours.map((n: { playerId: string }) => n.playerId)).toEqual(['p9', 'p29']);

    const a = await until(
      () => http(t.url, 'GET', `/api/v1/leaderboards/${inc}/players/a?around=0`, { key: KEYS.client }),
      (r) => r.body?.score === 7,
    );
    expect(a.body.score).toBe(7);

    const reset = await http(t.url, 'POST', `/api/v1/leaderboards/${id}/reset`, { key: KEYS.admin });
    expect(reset.body).toMatchObject({ archivedSeason: 1, archivedEntries: 30 });
    const archived = await http(t.url, 'GET', `/api/v1/leaderboards/${id}/seasons/1/top?limit=30`, { key: KEYS.client });
    expect(archived.body.entries).toEqual(top.body.entries);
  }, 90000);
});
