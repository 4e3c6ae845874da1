import { LeaderboardResetScheduler, LeaderboardService } from '../../src/modules/leaderboard';
import { http, KEYS, pollUntil as until, startTestApp, TestApp } from '../support/app';

const A = KEYS.admin;
const S = KEYS.service;
const C = KEYS.client;

describe('leaderboard (embedded profile over HTTP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_SECOND: '0', APP_MODULES: 'leaderboard' });
  });
  afterAll(() => t.close());

  const board = (id: string, extra: Record<string, unknown> = {}) =>
    http(t.url, 'POST', '/api/v1/leaderboards', { key: A, body: { id, ...extra } });
  const put = (b: string, p: string, score: unknown, headers?: Record<string, string>) =>
    http(t.url, 'PUT', `/api/v1/leaderboards/${b}/scores/${p}`, { key: S, body: { score }, headers });
  const top = (b: string, q = '') => http(t.url, 'GET', `/api/v1/leaderboards/${b}/top${q}`, { key: C });
  const settle = (b: string, total: number, q = '') => until(() => top(b, q), (r) => r.body?.total === total);

  it('creates, reads and lists boards; 409 on duplicates, 400 on bad ids, 404 unknown', async () => {
    const r = await board('reg:1', { order: 'asc', updatePolicy: 'overwrite', shards: 4, resetSchedule: '0 0 * * 1' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: 'reg:1', order: 'asc', updatePolicy: 'overwrite', shards: 4, season: 1 });
    expect((await board('reg:1')).status).toBe(409);
    expect((await board('bad id!')).status).toBe(400);
    expect((await board('x', { shards: 0 })).status).toBe(400);
    expect((await board('x', { updatePolicy: 'max' })).status).toBe(400);
    const got = await http(t.url, 'GET', '/api/v1/leaderboards/reg:1', { key: C });
    expect(got.status).toBe(200);
    expect(got.body.resetSchedule).toBe('0 0 * * 1');
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/nope', { key: C })).status).toBe(404);
    expect((await http(t.url, 'GET', `/api/v1/leaderboards/${'x'.repeat(65)}`, { key: C })).status).toBe(400);
    const list = await http(t.url, 'GET', '/api/v1/leaderboards', { key: C });
    expect(list.body.boards.map((b: { id: string }) => b.id)).toContain('reg:1');
  });

  it('enforces roles: client cannot write, service cannot create or reset, no key is 401', async () => {
    await board('roles');
    expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: S, body: { id: 'r2' } })).status).toBe(403);
    expect((await http(t.url, 'PUT', '/api/v1/leaderboards/roles/scores/p', { key: C, body: { score: 1 } })).status).toBe(403);
    expect((await http(t.url, 'POST', '/api/v1/leaderboards/roles/reset', { key: S })).status).toBe(403);
    expect((await http(t.url, 'DELETE', '/api/v1/leaderboards/roles/players/p', { key: S })).status).toBe(403);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/roles/top')).status).toBe(401);
  });

  it('rejects non-integer scores and unknown boards/players', async () => {
    await board('val');
    for (const bad of [1.5, 'NaN', '12', null, 2 ** 60, true]) expect((await put('val', 'p', bad)).status).toBe(400);
    expect((await http(t.url, 'PUT', '/api/v1/leaderboards/val/scores/p', { key: S, raw: '{"score": NaN}' })).status).toBe(400);
    expect((await put('missing', 'p', 1)).status).toBe(404);
    expect((await put('val', 'p', 1, { 'x-unused': '1' })).status).toBe(202);
    await settle('val', 1);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/val/players/ghost', { key: C })).status).toBe(404);
    expect((await http(t.url, 'DELETE', '/api/v1/leaderboards/val/players/ghost', { key: A })).status).toBe(404);
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ playerId: `p${i}`, score: i }));
    expect((await http(t.url, 'POST', '/api/v1/leaderboards/val/scores:batch', { key: S, body: { scores: tooMany } })).status).toBe(400);
  });

  it('best policy keeps the best score; ties order by who reached the score first', async () => {
    await board('best', { updatePolicy: 'best' });
    expect((await put('best', 'alice', 100)).status).toBe(202);
    await settle('best', 1);
    await put('best', 'bob', 100);
    await put('best', 'carol', 90);
    await put('best', 'alice', 50); // worse: ignored, keeps her tie position
    await put('best', 'carol', 100); // reaches 100 last
    const r = await until(() => top('best'), (x) => x.body.entries?.[2]?.playerId === 'carol' && x.body.entries[2].score === 100);
    expect(r.body.entries.map((e: { playerId: string; score: number; rank: number }) => [e.rank, e.playerId, e.score])).toEqual([
      [1, 'alice', 100],
      [2, 'bob', 100],
      [3, 'carol', 100],
    ]);
  });

  it('overwrite policy replaces; asc order ranks lower first; metadata is returned', async () => {
    await board('ow', { updatePolicy: 'overwrite', order: 'asc' });
    await http(t.url, 'PUT', '/api/v1/leaderboards/ow/scores/a', { key: S, body: { score: 30, metadata: { lap: 3 } } });
    await put('ow', 'b', 20);
    await settle('ow', 2);
    await put('ow', 'b', 40);
    const r = await until(() => top('ow'), (x) => x.body.entries?.[1]?.score === 40);
    expect(r.body.entries).toEqual([
      { rank: 1, playerId: 'a', score: 30, metadata: { lap: 3 } },
      { rank: 2, playerId: 'b', score: 40 },
    ]);
  });

  it('increment policy adds, and a retried write with the same Idempotency-Key applies once', async () => {
    await board('inc', { updatePolicy: 'increment' });
    await put('inc', 'p', 5, { 'idempotency-key': 'm1' });
    await put('inc', 'p', 5, { 'idempotency-key': 'm1' });
    await put('inc', 'p', 7, { 'idempotency-key': 'm2' });
    const r = await until(() => top('inc'), (x) => x.body.entries?.[0]?.score === 12);
    expect(r.body.entries[0]).toMatchObject({ playerId: 'p', score: 12 });
    await new Promise((res) => setTimeout(res, 200));
    expect((await top('inc')).body.entries[0].score).toBe(12);
  });

  it('exports write outcomes, apply time and write visibility lag on /metrics', async () => {
    await board('metrics-b', { updatePolicy: 'increment' });
    await put('metrics-b', 'p', 1, { 'idempotency-key': 'k1' });
    await put('metrics-b', 'p', 1, { 'idempotency-key': 'k1' });
    await until(() => top('metrics-b'), (x) => x.body.entries?.[0]?.score === 1);
    const value = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.split(' ')[1] ?? 0);
    const m = await until(
      async () => (await fetch(`${t.url}/metrics`)).text(),
      (text) => value(text, 'leaderboard_writes_total{outcome="duplicate"}') >= 1,
    );
    expect(value(m, 'leaderboard_writes_total{outcome="applied"}')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'leaderboard_apply_batch_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'leaderboard_write_visibility_lag_seconds_count')).toBeGreaterThanOrEqual(1);
  });

  it('a redelivered batch (same message ids) is applied once by the consumer', async () => {
    await board('redeliver', { updatePolicy: 'increment' });
    const svc = t.app.get(LeaderboardService);
    const batch = [
      { boardId: 'redeliver', playerId: 'x', score: 10, messageId: 'a', seq: 1 },
      { boardId: 'redeliver', playerId: 'x', score: 5, messageId: 'b', seq: 2 },
    ];
    await svc.applyMessages(batch);
    await svc.applyMessages(batch);
    const r = await http(t.url, 'GET', '/api/v1/leaderboards/redeliver/players/x', { key: C });
    expect(r.body.score).toBe(15);
    // From the log, redeliveries are recognised by position: at or before the player's last
    // applied offset on the same partition (even with a fresh message id).
    const fromLog = [
      { boardId: 'redeliver', playerId: 'y', score: 10, messageId: 'c', seq: 3, position: '1:5' },
      { boardId: 'redeliver', playerId: 'y', score: 5, messageId: 'd', seq: 4, position: '1:9' },
    ];
    await svc.applyMessages(fromLog);
    await svc.applyMessages(fromLog);
    await svc.applyMessages([{ boardId: 'redeliver', playerId: 'y', score: 100, messageId: 'e', seq: 5, position: '1:7' }]);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/redeliver/players/y', { key: C })).body.score).toBe(15);
    await svc.applyMessages([{ boardId: 'redeliver', playerId: 'y', score: 1, messageId: 'f', seq: 6, position: '1:10' }]);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/redeliver/players/y', { key: C })).body.score).toBe(16);
  });

  it('a write accepted before a DELETE but applied after it does not re-add the player; a later write does', async () => {
    await board('tomb', { updatePolicy: 'increment', shards: 2 });
    const svc = t.app.get(LeaderboardService);
    await put('tomb', 'cheat', 100);
    await put('tomb', 'ok', 1);
    await settle('tomb', 2);
    // Accepted (seq taken) before the DELETE, delivered by the log only after it ran.
    const queued = { boardId: 'tomb', playerId: 'cheat', score: 50, messageId: 'late-1', seq: Date.now() * 1000 };
    expect((await http(t.url, 'DELETE', '/api/v1/leaderboards/tomb/players/cheat', { key: A })).status).toBe(204);
    await svc.applyMessages([queued]);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/tomb/players/cheat', { key: C })).status).toBe(404);
    expect((await top('tomb')).body.total).toBe(1);
    // A player without a score: 404, but a write of theirs still queued is dropped all the same.
    const ghost = { boardId: 'tomb', playerId: 'ghost', score: 5, messageId: 'late-2', seq: Date.now() * 1000 };
    expect((await http(t.url, 'DELETE', '/api/v1/leaderboards/tomb/players/ghost', { key: A })).status).toBe(404);
    await svc.applyMessages([ghost]);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/tomb/players/ghost', { key: C })).status).toBe(404);
    // Accepted after the DELETE: applies, starting from nothing (increment does not resume at 150).
    await put('tomb', 'cheat', 7);
    const back = await until(
      () => http(t.url, 'GET', '/api/v1/leaderboards/tomb/players/cheat', { key: C }),
      (r) => r.status === 200,
    );
    expect(back.body).toMatchObject({ score: 7, rank: 1, total: 2 });
  });

  it('best on an asc board keeps the lowest; increment overflow is dropped; more 4xx cases', async () => {
    await board('asc-best', { order: 'asc', updatePolicy: 'best' });
    await put('asc-best', 'r', 50);
    await settle('asc-best', 1);
    await put('asc-best', 'r', 70);
    await put('asc-best', 'r', 40);
    const r = await until(() => top('asc-best'), (x) => x.body.entries?.[0]?.score === 40);
    expect(r.body.entries[0]).toMatchObject({ playerId: 'r', score: 40 });

    await board('inc-big', { updatePolicy: 'increment' });
    await put('inc-big', 'p', Number.MAX_SAFE_INTEGER);
    await settle('inc-big', 1);
    await put('inc-big', 'p', 1);
    await put('inc-big', 'q', 3);
    await settle('inc-big', 2);
    const big = await http(t.url, 'GET', '/api/v1/leaderboards/inc-big/players/p', { key: C });
    expect(big.body.score).toBe(Number.MAX_SAFE_INTEGER);

    const bad = async (method: string, path: string, body?: unknown, key: string = S) =>
      expect((await http(t.url, method, path, { key, body })).status).toBe(400);
    await bad('PUT', '/api/v1/leaderboards/inc-big/scores/p', { score: 1, extra: true });
    await bad('PUT', '/api/v1/leaderboards/inc-big/scores/p', {});
    await bad('PUT', '/api/v1/leaderboards/inc-big/scores/bad%20id', { score: 1 });
    await bad('PUT', '/api/v1/leaderboards/inc-big/scores/p', { score: 1, metadata: { s: 'x'.repeat(2000) } });
    await bad('POST', '/api/v1/leaderboards/inc-big/scores:batch', { scores: [] });
    await bad('POST', '/api/v1/leaderboards/inc-big/scores:batch', { entries: [{ playerId: 'a', score: 0.5 }] });
    await bad('POST', '/api/v1/leaderboards/inc-big/scores:batch', { entries: [] });
    await bad('POST', '/api/v1/leaderboards/inc-big/scores:batch', {});
    await bad('POST', '/api/v1/leaderboards/inc-big/scores:batch', { entries: [{ playerId: 'a', score: 1 }], scores: [{ playerId: 'a', score: 1 }] });
    for (const entry of [null, 7, { score: 1 }, { playerId: 'a b', score: 1 }, { playerId: 'a', score: '1' }, { playerId: 'a', score: 1, messageId: '' }, { playerId: 'a', score: 1, metadata: [] }]) {
      await bad('POST', '/api/v1/leaderboards/inc-big/scores:batch', { entries: [{ playerId: 'ok', score: 1 }, entry] });
    }
    await bad('GET', '/api/v1/leaderboards/inc-big/players/p?around=51', undefined, C);
    await bad('GET', '/api/v1/leaderboards/inc-big/top?limit=1001', undefined, C);
    await bad('GET', '/api/v1/leaderboards/inc-big/top?limit=1000&offset=9001', undefined, C);
    await bad('GET', '/api/v1/leaderboards/inc-big/seasons/x/top', undefined, C);
    const ids = Array.from({ length: 101 }, (_, i) => `p${i}`);
    await bad('POST', '/api/v1/leaderboards/inc-big/ranks', { playerIds: ids }, C);
    expect((await http(t.url, 'POST', '/api/v1/leaderboards/nope/ranks', { key: C, body: { playerIds: ['a'] } })).status).toBe(404);
    expect((await http(t.url, 'POST', '/api/v1/leaderboards/nope/reset', { key: A })).status).toBe(404);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = await http(t.url, 'GET', '/docs-json');
    const paths = Object.keys(doc.body.paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/leaderboards', '/api/v1/leaderboards/{boardId}/top']));
    expect(paths.some((p) => p.includes('scores:batch') || p.includes('scores::batch'))).toBe(true);
  });

  it('player view, ranks batch, delete, pagination', async () => {
    await board('pv');
    const scores = Array.from({ length: 20 }, (_, i) => ({ playerId: `p${i}`, score: i * 10 }));
    const b = await http(t.url, 'POST', '/api/v1/leaderboards/pv/scores:batch', { key: S, body: { entries: scores } });
    expect(b.status).toBe(202);
    expect(b.body.accepted).toBe(20);
    await settle('pv', 20);
    const me = await http(t.url, 'GET', '/api/v1/leaderboards/pv/players/p10?around=2', { key: C });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ playerId: 'p10', score: 100, rank: 10, total: 20 });
    expect(me.body.percentile).toBeCloseTo((100 * 10) / 19);
    expect(me.body.neighbours.map((n: { playerId: string; rank: number }) => [n.rank, n.playerId])).toEqual([
      [8, 'p12'],
      [9, 'p11'],
      [10, 'p10'],
      [11, 'p9'],
      [12, 'p8'],
    ]);
    const page = await top('pv', '?limit=3&offset=2');
    expect(page.body.entries.map((e: { rank: number }) => e.rank)).toEqual([3, 4, 5]);
    expect(page.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await top('pv', '?limit=0')).status).toBe(400);
    const ranks = await http(t.url, 'POST', '/api/v1/leaderboards/pv/ranks', { key: C, body: { playerIds: ['p19', 'p0', 'zz'] } });
    expect(ranks.status).toBe(200);
    expect(ranks.body.entries).toEqual([
      { playerId: 'p19', rank: 1, score: 190 },
      { playerId: 'p0', rank: 20, score: 0 },
      { playerId: 'zz', rank: null, score: null },
    ]);
    expect((await http(t.url, 'DELETE', '/api/v1/leaderboards/pv/players/p19', { key: A })).status).toBe(204);
    const after = await top('pv', '?limit=1');
    expect(after.body).toMatchObject({ total: 19, entries: [{ rank: 1, playerId: 'p18' }] });
  });

  it('reset archives the season with final ranks and starts the next', async () => {
    await board('season', { shards: 3 });
    const scores = Array.from({ length: 50 }, (_, i) => ({ playerId: `p${i}`, score: i, metadata: { i } }));
    await http(t.url, 'POST', '/api/v1/leaderboards/season/scores:batch', { key: S, body: { scores } });
    await settle('season', 50);
    const live = await top('season', '?limit=50');
    const reset = await http(t.url, 'POST', '/api/v1/leaderboards/season/reset', { key: A });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ archivedSeason: 1, archivedEntries: 50, season: 2 });
    const archived = await http(t.url, 'GET', '/api/v1/leaderboards/season/seasons/1/top?limit=50', { key: C });
    expect(archived.status).toBe(200);
    expect(archived.body.total).toBe(50);
    expect(archived.body.entries).toEqual(live.body.entries);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/season/seasons/2/top', { key: C })).status).toBe(404);
    const fresh = await top('season');
    expect(fresh.body).toMatchObject({ season: 2, total: 0, entries: [] });
    await put('season', 'new', 1);
    await settle('season', 1);
  });

  it('a sharded board ranks exactly like a single-shard one (10,000 random players)', async () => {
    await board('single');
    await board('sharded', { shards: 8 });
    const n = 10_000;
    const scores = Array.from({ length: n }, (_, i) => ({ playerId: `u${i}`, score: Math.floor(Math.random() * 500) }));
    for (let i = 0; i < n; i += 1000) {
      const part = scores.slice(i, i + 1000);
      for (const b of ['single', 'sharded']) {
        const r = await http(t.url, 'POST', `/api/v1/leaderboards/${b}/scores:batch`, { key: S, body: { entries: part } });
        expect(r.status).toBe(202);
      }
    }
    await settle('single', n);
    await settle('sharded', n);
    const strip = (e: { rank: number; playerId: string; score: number }) => [e.rank, e.playerId, e.score];
    for (const q of ['?limit=1000', '?limit=100&offset=4000', '?limit=50&offset=9950']) {
      const [a, b] = await Promise.all([top('single', q), top('sharded', q)]);
      expect(b.body.entries.map(strip)).toEqual(a.body.entries.map(strip));
    }
    const sample = Array.from({ length: 100 }, () => `u${Math.floor(Math.random() * n)}`);
    const [ra, rb] = await Promise.all(
      ['single', 'sharded'].map((b) => http(t.url, 'POST', `/api/v1/leaderboards/${b}/ranks`, { key: C, body: { playerIds: sample } })),
    );
    // Ties break by acceptance time, and both boards received the same writes in the same order.
    expect(rb.body.entries).toEqual(ra.body.entries);
    const shardedTop = await top('sharded', '?limit=1000');
    const probe = shardedTop.body.entries[500].playerId;
    const [pa, pb] = await Promise.all(
      ['single', 'sharded'].map((b) => http(t.url, 'GET', `/api/v1/leaderboards/${b}/players/${probe}?around=5`, { key: C })),
    );
    expect(pb.body).toEqual({ ...pa.body, boardId: 'sharded' });
  });
  it('runs resetSchedule as a cron job (scheduler role): the season increments and is archived; 400 on a bad cron', async () => {
    expect((await board('cron:bad', { resetSchedule: 'not a cron' })).status).toBe(400);
    expect((await board('cron:bad', { resetSchedule: '61 * * * *' })).status).toBe(400);
    expect((await board('cron:1', { resetSchedule: '* * * * * *' })).status).toBe(201);
    expect((await put('cron:1', 'alice', 7)).status).toBe(202);
    const get = () => http(t.url, 'GET', '/api/v1/leaderboards/cron:1', { key: C });
    // The first write may land in season 1 or (after a tick) season 2; poll until some season archived it.
    const archived = await until(
      async () => {
        const b = await get();
        for (let s = 1; s < b.body.season; s++) {
          const r = await http(t.url, 'GET', `/api/v1/leaderboards/cron:1/seasons/${s}/top`, { key: C });
          if (r.status === 200 && r.body.entries.some((e: { playerId: string }) => e.playerId === 'alice')) return { season: s, body: r.body };
        }
        return null;
      },
      (v) => v !== null,
      15000,
    );
    expect(archived).not.toBeNull();
    expect(archived!.body.entries[0]).toMatchObject({ playerId: 'alice', score: 7, rank: 1 });
    expect((await get()).body.season).toBeGreaterThan(archived!.season);
    // Exactly one reset per season: every archived season exists once, and seasons are contiguous.
    const now = (await get()).body.season;
    for (let s = 1; s < now; s++) expect((await http(t.url, 'GET', `/api/v1/leaderboards/cron:1/seasons/${s}/top`, { key: C })).status).toBe(200);
  }, 30000);
  it('two scheduler ticks for the same season reset it once (set-if-absent lock per board and season)', async () => {
    expect((await board('cron:lock', { resetSchedule: '0 0 1 1 *' })).status).toBe(201);
    const sched = t.app.get(LeaderboardResetScheduler);
    const results = await Promise.all([sched.tick('cron:lock'), sched.tick('cron:lock'), sched.tick('cron:lock')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await http(t.url, 'GET', '/api/v1/leaderboards/cron:lock', { key: C })).body.season).toBe(2);
  });
  it('serves GET top from a per-process top-K cache refreshed every LEADERBOARD_TOP_CACHE_MS (1 s); ranks/players bypass it', async () => {
    const svc = t.app.get(LeaderboardService);
    expect(svc.topCacheMs).toBe(1000);
    await board('cache');
    await put('cache', 'a', 10);
    await until(() => http(t.url, 'POST', '/api/v1/leaderboards/cache/ranks', { key: C, body: { playerIds: ['a'] } }), (r) => r.body.entries?.[0]?.rank === 1);
    const t0 = Date.now();
    const first = await top('cache');
    expect(first.body.entries.map((e: { playerId: string }) => e.playerId)).toEqual(['a']);
    await put('cache', 'b', 20);
    const fresh = await until(
      () => http(t.url, 'GET', '/api/v1/leaderboards/cache/players/b', { key: C }),
      (r) => r.status === 200,
    );
    expect(fresh.body.rank).toBe(1); // uncached read sees b at once
    const cached = await top('cache');
    if (Date.now() - t0 < 900) {
      expect(cached.body.total).toBe(1); // still the snapshot taken at t0
      expect(cached.body.entries.map((e: { playerId: string }) => e.playerId)).toEqual(['a']);
    }
    const later = await until(() => top('cache'), (r) => r.body.entries?.[0]?.playerId === 'b', 5000);
    expect(later.body.total).toBe(2);
    expect(later.body.entries.map((e: { playerId: string }) => e.playerId)).toEqual(['b', 'a']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    // Deep pages are not cached.
    expect((await top('cache', '?limit=10&offset=995')).body.total).toBe(2);
  });
});
