import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { LeaderboardResetScheduler } from '../../src/modules/leaderboard';
import { http, KEYS, pollUntil as until, startTestApp, TestApp } from '../support/app';

const A = KEYS.admin;
const S = KEYS.service;
const C = KEYS.client;

/**
 * Issue 9 defects of the leaderboard, on both profiles: dedupe identities that collided, keys
 * reused for another write, the neighbours/default/player-count contract, and a season reset that
 * lost the season when its archive failed.
 */
describe.each(['embedded', 'full'])('leaderboard hardening (%s profile)', (profile) => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: profile, RATE_LIMIT_PER_SECOND: '0', APP_MODULES: 'leaderboard' }, []);
    db = t.app.get(DataSource);
  }, 60000);
  afterAll(() => t.close());

  // The board registry lives in a shared database on the full profile: unique ids per run.
  const uid = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;
  const create = (id: string, extra: Record<string, unknown> = {}) => http(t.url, 'POST', '/api/v1/leaderboards', { key: A, body: { id, ...extra } });
  const put = (b: string, p: string, body: unknown, key?: string) =>
    http(t.url, 'PUT', `/api/v1/leaderboards/${b}/scores/${p}`, { key: S, body, headers: key ? { 'idempotency-key': key } : {} });
  const batch = (b: string, entries: unknown[]) => http(t.url, 'POST', `/api/v1/leaderboards/${b}/scores:batch`, { key: S, body: { entries } });
  const top = (b: string) => http(t.url, 'GET', `/api/v1/leaderboards/${b}/top?limit=100`, { key: C });
  const settle = (b: string, total: number) => until(() => top(b), (r) => r.body?.total === total, 20000);
  const reset = (b: string, body?: unknown) => http(t.url, 'POST', `/api/v1/leaderboards/${b}/reset`, { key: A, body });

  it('keeps (player, key) pairs that share their joined text apart, for Idempotency-Key and batch messageId', async () => {
    const b = uid('collide');
    expect((await create(b)).status).toBe(201);
    expect((await put(b, 'a', { score: 5 }, 'b:c')).status).toBe(202);
    expect((await put(b, 'a:b', { score: 7 }, 'c')).status).toBe(202);
    expect((await batch(b, [{ playerId: 'x', score: 1, messageId: 'y:z' }, { playerId: 'x:y', score: 2, messageId: 'z' }])).status).toBe(202);
    const r = await settle(b, 4);
    expect(r.body.entries.map((e: { playerId: string; score: number }) => [e.playerId, e.score])).toEqual([
      ['a:b', 7],
      ['a', 5],
      ['x:y', 2],
      ['x', 1],
    ]);
  }, 60000);

  it('answers 422 idempotency_key_reused for a key reused with another write; the same write still replays', async () => {
    const b = uid('reuse');
    expect((await create(b, { updatePolicy: 'increment' })).status).toBe(201);
    expect((await put(b, 'p', { score: 3 }, 'k-1')).status).toBe(202);
    expect((await put(b, 'p', { score: 3 }, 'k-1')).status).toBe(202); // replay: applied once
    const other = await put(b, 'p', { score: 4 }, 'k-1');
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect((await put(b, 'p', { score: 3, metadata: { x: 1 } }, 'k-1')).status).toBe(422);
    // The same key on another player is another write (keys are per player, as the dedupe is).
    expect((await put(b, 'q', { score: 10 }, 'k-1')).status).toBe(202);

    expect((await batch(b, [{ playerId: 'r', score: 1, messageId: 'm-1' }])).status).toBe(202);
    expect((await batch(b, [{ playerId: 'r', score: 1, messageId: 'm-1' }])).status).toBe(202);
    const changed = await batch(b, [{ playerId: 's', score: 1 }, { playerId: 'r', score: 2, messageId: 'm-1' }]);
    expect(changed.status).toBe(422);
    expect(changed.body.code).toBe('idempotency_key_reused');
    const inOne = await batch(b, [{ playerId: 'u', score: 1, messageId: 'm-2' }, { playerId: 'u', score: 2, messageId: 'm-2' }]);
    expect(inOne.status).toBe(422);

    const r = await settle(b, 3);
    expect(r.body.entries.map((e: { playerId: string; score: number }) => [e.playerId, e.score])).toEqual([
      ['q', 10],
      ['p', 3],
      ['r', 1],
    ]);
  }, 60000);

  it('neighbours include the player in rank order; updatePolicy defaults to overwrite; GET board has the player count', async () => {
    const b = uid('contract');
    const made = await create(b);
    expect(made.body.updatePolicy).toBe('overwrite');
    expect((await batch(b, Array.from({ length: 6 }, (_, i) => ({ playerId: `p${i}`, score: i * 10 })))).status).toBe(202);
    await settle(b, 6);
    expect((await put(b, 'p5', { score: 1 })).status).toBe(202); // overwrite: 50 → 1
    await until(() => top(b), (r) => r.body?.entries?.[4]?.playerId === 'p5', 20000); // 40 30 20 10 1 0
    const me = await http(t.url, 'GET', `/api/v1/leaderboards/${b}/players/p3?around=2`, { key: C });
    expect(me.body).toMatchObject({ rank: 2, score: 30 });
    expect(me.body.neighbours.map((n: { rank: number; playerId: string }) => [n.rank, n.playerId])).toEqual([
      [1, 'p4'],
      [2, 'p3'],
      [3, 'p2'],
      [4, 'p1'],
    ]);
    const first = await http(t.url, 'GET', `/api/v1/leaderboards/${b}/players/p4?around=2`, { key: C });
    expect(first.body.neighbours.map((n: { playerId: string }) => n.playerId)).toEqual(['p4', 'p3', 'p2']);
    const mid = await http(t.url, 'GET', `/api/v1/leaderboards/${b}/players/p1?around=1`, { key: C });
    expect(mid.body.neighbours.map((n: { playerId: string }) => n.playerId)).toEqual(['p2', 'p1', 'p5']);
    const alone = await http(t.url, 'GET', `/api/v1/leaderboards/${b}/players/p1?around=0`, { key: C });
    expect(alone.body.neighbours).toEqual([{ rank: 4, playerId: 'p1', score: 10 }]);
    const got = await http(t.url, 'GET', `/api/v1/leaderboards/${b}`, { key: C });
    expect(got.body).toMatchObject({ id: b, season: 1, players: 6 });
  }, 60000);

  describe('a reset whose archive fails', () => {
    /** A real SQL failure in the archive step: a trigger that refuses this board's season entries. */
    async function failArchivesOf(boardId: string): Promise<() => Promise<void>> {
      const name = `lb_fail_${randomBytes(4).toString('hex')}`;
      await db.query(
        `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.board_id = '${boardId}' THEN RAISE EXCEPTION 'injected archive failure'; END IF; RETURN NEW; END $$`,
      );
      await db.query(`CREATE TRIGGER ${name} BEFORE INSERT ON leaderboard_season_entries FOR EACH ROW EXECUTE FUNCTION ${name}()`);
      return async () => {
        await db.query(`DROP TRIGGER ${name} ON leaderboard_season_entries`);
        await db.query(`DROP FUNCTION ${name}()`);
      };
    }

    it('leaves the season current and live; a retry archives that season, and a repeated retry changes nothing', async () => {
      const b = uid('reset');
      expect((await create(b, { shards: 2 })).status).toBe(201);
      expect((await batch(b, Array.from({ length: 5 }, (_, i) => ({ playerId: `p${i}`, score: i, metadata: { i } })))).status).toBe(202);
      await settle(b, 5);
      const heal = await failArchivesOf(b);
      try {
        const failed = await reset(b);
        expect(failed.status).toBeGreaterThanOrEqual(500);
        const board = await http(t.url, 'GET', `/api/v1/leaderboards/${b}`, { key: C });
        expect(board.body).toMatchObject({ season: 1, players: 5 });
        expect((await top(b)).body).toMatchObject({ season: 1, total: 5 });
        expect((await http(t.url, 'GET', `/api/v1/leaderboards/${b}/seasons/1/top`, { key: C })).status).toBe(404);
      } finally {
        await heal();
      }
      const retried = await reset(b, { season: 1 });
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual({ boardId: b, archivedSeason: 1, archivedEntries: 5, season: 2 });
      const archived = await http(t.url, 'GET', `/api/v1/leaderboards/${b}/seasons/1/top`, { key: C });
      expect(archived.body.entries.map((e: { rank: number; playerId: string }) => [e.rank, e.playerId])).toEqual([
        [1, 'p4'],
        [2, 'p3'],
        [3, 'p2'],
        [4, 'p1'],
        [5, 'p0'],
      ]);
      expect(archived.body.entries[0].metadata).toEqual({ i: 4 });
      // The answer was lost and the client retries the same reset: the archive again, no new season.
      const again = await reset(b, { season: 1 });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(retried.body);
      expect((await http(t.url, 'GET', `/api/v1/leaderboards/${b}`, { key: C })).body).toMatchObject({ season: 2, players: 0 });
      expect((await http(t.url, 'GET', `/api/v1/leaderboards/${b}/seasons/2/top`, { key: C })).status).toBe(404);
      expect((await reset(b, { season: 3 })).status).toBe(409);
    }, 60000);

    it('a failed scheduled reset keeps the season and is retried for that same season', async () => {
      const b = uid('sched');
      expect((await create(b)).status).toBe(201);
      expect((await batch(b, [{ playerId: 'a', score: 1 }, { playerId: 'b', score: 2 }])).status).toBe(202);
      await settle(b, 2);
      const scheduler = t.app.get(LeaderboardResetScheduler);
      const heal = await failArchivesOf(b);
      try {
        expect(await scheduler.tick(b)).toBe(false);
      } finally {
        await heal();
      }
      expect((await http(t.url, 'GET', `/api/v1/leaderboards/${b}`, { key: C })).body).toMatchObject({ season: 1, players: 2 });
      expect(await scheduler.tick(b, 1)).toBe(true);
      const archived = await http(t.url, 'GET', `/api/v1/leaderboards/${b}/seasons/1/top`, { key: C });
      expect(archived.body).toMatchObject({ season: 1, total: 2 });
      expect(await scheduler.tick(b, 1)).toBe(false); // that season is done: the board stays at 2
      expect((await http(t.url, 'GET', `/api/v1/leaderboards/${b}`, { key: C })).body.season).toBe(2);
    }, 60000);
  });
});
