import { DataSource } from 'typeorm';
import { Clock } from '../../src/platform/clock/clock';
import { UuidV7IdGenerator } from '../../src/platform/ids/id-generator';
import { RedisKeyValueStore } from '../../src/platform/kv/redis-key-value-store';
import { createRedisClient } from '../support/redis';
import { http, KEYS, startTestApp, TestApp } from '../support/app';
import { HoldRepository, writeHolds } from '../support/ticketing';
import { HoldDecision, HoldRequest, HotInventory, hotState, InProcessHotInventory, InventoryEvent, InventoryStrategy, RedisHotInventory } from '../support/ticketing';

/**
 * One contract for both hold strategies (TICKETING_HOLD_STRATEGY=redis|postgres), each on both
 * profiles (embedded: in-memory KV + PGlite; full: Redis + PostgreSQL). Events are created over
 * HTTP so their seats exist in SQL; holds go straight through the strategy under test. After every
 * case the SQL rows must satisfy the invariants (the source of truth in both strategies).
 */
const ids = new UuidV7IdGenerator();
const combos = [
  ['redis', 'embedded'],
  ['redis', 'full'],
  ['postgres', 'embedded'],
  ['postgres', 'full'],
] as const;

describe.each(combos)('ticketing inventory strategy %s (%s profile)', (strategy, profile) => {
  let t: TestApp;
  let inv: InventoryStrategy;
  let ds: DataSource;
  let clock: Clock;

  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: profile, APP_MODULES: 'ticketing', RATE_LIMIT_PER_SECOND: '0', TICKETING_HOLD_STRATEGY: strategy });
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    inv = t.app.get(InventoryStrategy);
  }, 60_000);
  afterAll(() => t?.close());

  const createEvent = async (layout: Record<string, unknown>, maxPerUser: number): Promise<InventoryEvent> => {
    const res = await http(t.url, 'POST', '/api/v1/events', {
      key: KEYS.admin,
      body: { name: 'contract', startsAt: new Date(Date.now() + 86_400_000).toISOString(), maxPerUser, ...layout },
    });
    expect(res.status).toBe(201);
    await inv.prepare(res.body.id);
    if ('generalAdmission' in layout) return { id: res.body.id, kind: 'GA', maxPerUser };
    return { id: res.body.id, kind: 'SEATED', maxPerUser, sections: layout.sections as InventoryEvent['sections'] };
  };
  const ga = (capacity: number, maxPerUser = 4) => createEvent({ generalAdmission: { capacity, price: 12.5 } }, maxPerUser);
  const seated = (rows: number, perRow: number, maxPerUser = 4) =>
    createEvent({ sections: [{ name: 'A', rows, seatsPerRow: perRow, price: 30 }] }, maxPerUser);
  const req = (userId: string, quantity: number, seatIds: string[] = [], key?: string): HoldRequest => {
    const now = clock.now();
    return { holdId: ids.next(), userId, quantity, seatIds, nowMs: now, expiresAtMs: now + 60_000, ...(key ? { idempotency: { key, hash: 'h' } } : {}) };
  };
  const heldSeats = (d: HoldDecision) => (d.outcome === 'held' ? d.seats.map((s) => s.seatId) : []);

  /** SQL view of the invariants: counts add up, seats held by ACTIVE holds only, per-user totals. */
  const sqlState = async (eventId: string) => {
    const [c] = await ds.query(
      `SELECT count(*) FILTER (WHERE status = 'AVAILABLE')::int AS available, count(*) FILTER (WHERE status = 'HELD')::int AS held,
              count(*) FILTER (WHERE status = 'SOLD')::int AS sold, count(*)::int AS capacity FROM ticketing_seats WHERE event_id = $1`,
      [eventId],
    );
    const [mismatch] = await ds.query(
      `SELECT count(*)::int AS n FROM ticketing_holds h
       WHERE h.event_id = $1 AND h.status = 'ACTIVE' AND h.quantity <> (SELECT count(*) FROM ticketing_seats s WHERE s.hold_id = h.id)`,
      [eventId],
    );
    const perUser: { user_id: string; n: number }[] = await ds.query(
      `SELECT h.user_id, count(*)::int AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id WHERE s.event_id = $1 GROUP BY h.user_id`,
      [eventId],
    );
    return { ...c, holdsWithWrongSeatCount: mismatch.n, maxPerUserSeen: Math.max(0, ...perUser.map((r) => r.n)) };
  };
  /** What a release does in SQL before the service calls giveBack. */
  const releaseInSql = async (holdId: string) => {
    await ds.query(`UPDATE ticketing_holds SET status = 'RELEASED' WHERE id = $1`, [holdId]);
    const rows = await ds.query(`UPDATE ticketing_seats SET status = 'AVAILABLE', hold_id = NULL WHERE hold_id = $1 RETURNING seat_id`, [holdId]);
    return (Array.isArray(rows[0]) ? rows[0] : rows).map((r: { seat_id: string }) => r.seat_id) as string[];
  };

  it('holds GA places with their prices and records the hold in SQL', async () => {
    const e = await ga(5);
    const r = req('u1', 2);
    const d = await inv.hold(e, r);
    expect(d.outcome).toBe('held');
    if (d.outcome !== 'held') return;
    expect(d.seats).toHaveLength(2);
    expect(d.seats.every((s) => s.priceCents === 1250 && /^GA-GA-\d+$/.test(s.seatId))).toBe(true);
    const [h] = await ds.query(`SELECT user_id, quantity, amount_cents, status FROM ticketing_holds WHERE id = $1`, [r.holdId]);
    expect(h).toMatchObject({ user_id: 'u1', quantity: 2, status: 'ACTIVE' });
    expect(Number(h.amount_cents)).toBe(2500);
    expect(await sqlState(e.id)).toMatchObject({ capacity: 5, available: 3, held: 2, sold: 0, holdsWithWrongSeatCount: 0 });
  });

  it('refuses beyond maxPerUser and when sold out, taking nothing', async () => {
    const e = await ga(3, 2);
    expect((await inv.hold(e, req('u1', 2))).outcome).toBe('held');
    expect(await inv.hold(e, req('u1', 1))).toEqual({ outcome: 'limit', alreadyHeld: 2 });
    const short = await inv.hold(e, req('u2', 2));
    expect(short.outcome).toBe('sold_out');
    expect((await inv.hold(e, req('u2', 1))).outcome).toBe('held');
    expect((await inv.hold(e, req('u3', 1))).outcome).toBe('sold_out');
    expect(await sqlState(e.id)).toMatchObject({ available: 0, held: 3, holdsWithWrongSeatCount: 0 });
  });

  it('takes asked seats all or nothing, names taken and unknown seats', async () => {
    const e = await seated(2, 3);
    expect(heldSeats(await inv.hold(e, req('u1', 2, ['A-1-1', 'A-1-2'])))).toEqual(expect.arrayContaining(['A-1-1', 'A-1-2']));
    const taken = await inv.hold(e, req('u2', 2, ['A-1-2', 'A-2-1']));
    expect(taken).toEqual({ outcome: 'seat_unavailable', seatIds: expect.arrayContaining(['A-1-2']) });
    expect(await inv.hold(e, req('u2', 2, ['A-2-1', 'Z-9-9']))).toEqual({ outcome: 'unknown_seats', seatIds: ['Z-9-9'] });
    // Without the layout at hand the strategy asks SQL instead; same answer.
    expect(await inv.hold({ ...e, sections: undefined }, req('u2', 2, ['A-2-1', 'A-9-9']))).toEqual({ outcome: 'unknown_seats', seatIds: ['A-9-9'] });
    // Nothing of the refused requests was taken: A-2-1 is still free.
    expect(heldSeats(await inv.hold(e, req('u2', 1, ['A-2-1'])))).toEqual(['A-2-1']);
    expect(await sqlState(e.id)).toMatchObject({ available: 3, held: 3, holdsWithWrongSeatCount: 0 });
  });

  it('sells released places again after giveBack, and frees the user quota', async () => {
    const e = await seated(1, 2, 2);
    const r = req('u1', 2, ['A-1-1', 'A-1-2']);
    expect((await inv.hold(e, r)).outcome).toBe('held');
    expect((await inv.hold(e, req('u2', 1, ['A-1-1']))).outcome).toBe('seat_unavailable');
    await inv.giveBack(e, 'u1', await releaseInSql(r.holdId));
    expect(heldSeats(await inv.hold(e, req('u2', 1, ['A-1-1'])))).toEqual(['A-1-1']);
    expect(heldSeats(await inv.hold(e, req('u1', 1, ['A-1-2'])))).toEqual(['A-1-2']);
  });

  it('gives one hold per idempotency key even when asked twice', async () => {
    const e = await ga(10);
    const key = `k-${ids.next()}`;
    expect((await inv.hold(e, req('u1', 1, [], key))).outcome).toBe('held');
    expect(await inv.hold(e, req('u1', 1, [], key))).toEqual({ outcome: 'duplicate_key' });
    expect(await sqlState(e.id)).toMatchObject({ available: 9, held: 1 });
    expect((await inv.hold(e, req('u1', 1))).outcome).toBe('held');
  });

  it('never oversells: 2,000 parallel holds on 1,000 GA places', async () => {
    const e = await ga(1000, 1);
    const out = await Promise.all(Array.from({ length: 2000 }, (_, i) => inv.hold(e, req(`fan-${i}`, 1))));
    const won = out.flatMap(heldSeats);
    expect(out.filter((d) => d.outcome === 'held')).toHaveLength(1000);
    expect(out.filter((d) => d.outcome === 'sold_out')).toHaveLength(1000);
    expect(new Set(won).size).toBe(1000);
    expect(await sqlState(e.id)).toMatchObject({ capacity: 1000, available: 0, held: 1000, sold: 0, holdsWithWrongSeatCount: 0, maxPerUserSeen: 1 });
  }, 60_000);

  it('never gives a seat twice or a user more than maxPerUser under a parallel seated race', async () => {
    const e = await seated(10, 10, 3);
    const out = await Promise.all(
      Array.from({ length: 600 }, (_, i) => {
        const seat = `A-${1 + (i % 10)}-${1 + ((i * 7) % 10)}`;
        return inv.hold(e, req(`fan-${i % 150}`, 1, [seat]));
      }),
    );
    const won = out.flatMap(heldSeats);
    expect(new Set(won).size).toBe(won.length);
    const s = await sqlState(e.id);
    expect(s.held).toBe(won.length);
    expect(s.available + s.held + s.sold).toBe(100);
    expect(s.maxPerUserSeen).toBeLessThanOrEqual(3);
    expect(s.holdsWithWrongSeatCount).toBe(0);
    // Same user racing itself: exactly maxPerUser win.
    const g = await ga(100, 4);
    const mine = await Promise.all(Array.from({ length: 50 }, () => inv.hold(g, req('greedy', 1))));
    expect(mine.filter((d) => d.outcome === 'held')).toHaveLength(4);
    expect(mine.filter((d) => d.outcome === 'limit')).toHaveLength(46);
  }, 60_000);

  // SQL only: one run per profile is enough.
  (strategy === 'redis' ? it : it.skip)('group commit: one statement writes many holds, each all or nothing; a used key fails the batch; concurrent writes batch', async () => {
    const g = await ga(5);
    const gaOut = await writeHolds(ds, g.id, 'ga', [req('u1', 2), req('u2', 2), req('u3', 2), req('u4', 1)]);
    expect(gaOut.map((r) => r.ok)).toEqual([true, true, false, false]); // runs of the free seats: the third is short
    expect(gaOut.flatMap((r) => (r.ok ? r.seats.map((x) => x.priceCents) : []))).toEqual([1250, 1250, 1250, 1250]);
    expect(await sqlState(g.id)).toMatchObject({ available: 1, held: 4, holdsWithWrongSeatCount: 0 });
    const s = await seated(2, 5);
    expect((await writeHolds(ds, s.id, 'seated', [req('a', 1, ['A-1-1'])]))[0].ok).toBe(true);
    const keyed = req('b', 1, ['A-2-5'], `k-${ids.next()}`);
    const out = await writeHolds(ds, s.id, 'seated', [req('c', 2, ['A-1-1', 'A-1-2']), req('d', 2, ['A-1-3', 'A-1-4']), keyed]);
    expect(out.map((r) => r.ok)).toEqual([false, true, true]);
    expect(out[1].ok && out[1].seats.map((x) => x.seatId)).toEqual(['A-1-3', 'A-1-4']);
    expect(await sqlState(s.id)).toMatchObject({ available: 6, held: 4, holdsWithWrongSeatCount: 0 });
    // the same Idempotency-Key again: the whole statement fails and writes nothing
    await expect(writeHolds(ds, s.id, 'seated', [req('e', 1, ['A-2-1']), { ...req('f', 1, ['A-2-2']), idempotency: keyed.idempotency }])).rejects.toThrow();
    expect(await sqlState(s.id)).toMatchObject({ available: 6, held: 4 });
    // Through the repository: 30 concurrent writes on 20 places (batched behind the first); then a batch
    // with a reused key fails as a whole and is written hold by hold.
    const repo = t.app.get(HoldRepository);
    const c = await ga(20);
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => repo.write(c.id, 'ga', req(`m${i}`, 1))));
    expect(many.filter((r) => r.ok)).toHaveLength(20);
    expect(await sqlState(c.id)).toMatchObject({ available: 0, held: 20, holdsWithWrongSeatCount: 0 });
    const dup = await Promise.all([
      repo.write(s.id, 'seated', req('g', 1, ['A-2-3'])),
      repo.write(s.id, 'seated', req('h', 1, ['A-2-4'])),
      repo.write(s.id, 'seated', { ...req('i', 1, ['A-2-1']), idempotency: keyed.idempotency }),
    ]);
    expect(dup.map((r) => (r.ok ? r.seats.map((x) => x.seatId) : r.reason))).toEqual([['A-2-3'], ['A-2-4'], 'duplicate_key']);
    expect(await sqlState(s.id)).toMatchObject({ available: 4, held: 6, holdsWithWrongSeatCount: 0 });
  });

  // Over HTTP on the full profile only: the embedded profile's PGlite serialises everything anyway
  // and the direct 2,000-way race above already runs there; this keeps the file well under a minute.
  if (strategy === 'postgres' && profile === 'full') {
    it('over HTTP (the app runs this strategy): 2,000 parallel hold requests on 1,000 places, exactly 1,000 win', async () => {
      const e = await ga(1000, 1);
      const res = await Promise.all(
        Array.from({ length: 2000 }, (_, i) =>
          http(t.url, 'POST', `/api/v1/events/${e.id}/holds`, {
            key: KEYS.client,
            body: { userId: `h-${i}`, quantity: 1 },
            headers: { 'idempotency-key': `pg-${e.id}-${i}` },
          }),
        ),
      );
      const byStatus: Record<number, number> = {};
      for (const r of res) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      expect(byStatus).toEqual({ 201: 1000, 409: 1000 });
      expect(new Set(res.flatMap((r) => (r.status === 201 ? r.body.seatIds : []))).size).toBe(1000);
      const a = (await http(t.url, 'GET', `/api/v1/events/${e.id}/availability`, { key: KEYS.client })).body;
      expect(a).toMatchObject({ capacity: 1000, available: 0, held: 1000, sold: 0 });
      // A replay answers the first hold, through the SQL idempotency table of this strategy.
      const first = res.findIndex((r) => r.status === 201);
      const again = await http(t.url, 'POST', `/api/v1/events/${e.id}/holds`, {
        key: KEYS.client,
        body: { userId: `h-${first}`, quantity: 1 },
        headers: { 'idempotency-key': `pg-${e.id}-${first}` },
      });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(res[first].body);
    }, 60_000);
  }

  if (strategy === 'redis') {
    const holdOver = (eventId: string, idemKey: string, body: unknown) =>
      http(t.url, 'POST', `/api/v1/events/${eventId}/holds`, { key: KEYS.client, body, headers: { 'idempotency-key': idemKey } });

    it('Redis-path Idempotency-Key: replays, 422, a lost claim store and a crashed first attempt', async () => {
      const e = await ga(1, 1);
      const k = `rk-${ids.next()}`;
      const first = await holdOver(e.id, k, { userId: 'r1', quantity: 1 });
      expect(first.status).toBe(201);
      expect(await holdOver(e.id, k, { userId: 'r1', quantity: 1 })).toMatchObject({ status: 201, body: first.body });
      expect((await holdOver(e.id, k, { userId: 'r2', quantity: 1 })).status).toBe(422);

      // Redis flushed (claims and their sentinel gone): the event is sold out now, yet the replay
      // must still answer the hold it won, reloaded from the hold rows in SQL.
      const hot = t.app.get(HotInventory);
      await hotState(t.app, t.config.NAMESPACE).dropClaims(e.id);
      expect(await holdOver(e.id, k, { userId: 'r1', quantity: 1 })).toMatchObject({ status: 201, body: first.body });
      expect((await holdOver(e.id, k, { userId: 'r2', quantity: 1 })).status).toBe(422);

      // A first attempt that committed in SQL and died before completing its claim: while fresh the
      // claim answers 409 (in progress); once stale, SQL decides and the hold is answered.
      const setClaim = async (v: object) => expect(await hot.swapClaim(e.id, k, (await hot.claim(e.id, k))!, JSON.stringify(v), 60_000)).toBe(true);
      const hash = JSON.parse((await hot.claim(e.id, k))!).h;
      await setClaim({ s: 'P', h: hash, t: clock.now(), id: first.body.holdId });
      expect((await holdOver(e.id, k, { userId: 'r1', quantity: 1 })).status).toBe(409);
      await setClaim({ s: 'P', h: hash, t: clock.now() - 60_000, id: first.body.holdId });
      expect(await holdOver(e.id, k, { userId: 'r1', quantity: 1 })).toMatchObject({ status: 201, body: first.body });

      // A loser's key is freed: the same key may be retried (and loses again, sold out).
      const lk = `rk-${ids.next()}`;
      expect((await holdOver(e.id, lk, { userId: 'r3', quantity: 1 })).status).toBe(409);
      expect(await hot.claim(e.id, lk)).toBeNull();
      expect(await sqlState(e.id)).toMatchObject({ available: 0, held: 1 });
    });
  }
});

/**
 * The HotInventory port, the embedded/full seam under the hot strategy: Redis (Lua) and in-process
 * (the domain functions) must answer alike, step by step.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
describe.each(['redis', 'in-process'] as const)('HotInventory contract: %s', (adapter) => {
  let sut: HotInventory;
  let close = async () => undefined as unknown;
  const now = 1_800_000_000_000;
  const ga = (): InventoryEvent => ({ id: ids.next(), kind: 'GA', maxPerUser: 2 });
  const seated = (): InventoryEvent => ({ id: ids.next(), kind: 'SEATED', maxPerUser: 4 });
  /** A fresh event built as a rebuild from SQL builds it. */
  const built = async (e: InventoryEvent, free: number | string[], perUser: [string, number][] = []) => {
    const since = await sut.beginRebuild(e.id);
    expect(since).toBe(0);
    await sut.commitRebuild(e, since!, free, new Map(perUser));
    await sut.endRebuild(e.id);
    return e;
  };

  beforeAll(() => {
    if (adapter === 'in-process') sut = new InProcessHotInventory(() => now);
    else {
      const kv = new RedisKeyValueStore(createRedisClient(REDIS_URL));
      const ns = `hot-contract-${ids.next()}`;
      sut = new RedisHotInventory(kv, ns, () => now);
      close = async () => (await kv.deleteByPrefix(`${ns}:`), await kv.close());
    }
  });
  afterAll(() => close());

  it('answers missing until built, then takes GA places down to zero and enforces the per-user limit', async () => {
    const e = ga();
    expect(await sut.tryHold(e, 'u1', 1, [])).toEqual({ outcome: 'missing' });
    expect(await sut.isReady(e.id)).toBe(false);
    await built(e, 3);
    expect(await sut.tryHold(e, 'u1', 2, [])).toEqual({ outcome: 'ok' });
    expect(await sut.tryHold(e, 'u1', 1, [])).toEqual({ outcome: 'limit', held: 2 });
    expect(await sut.tryHold(e, 'u2', 2, [])).toEqual({ outcome: 'sold_out', available: 1 });
    expect(await sut.tryHold(e, 'u2', 1, [])).toEqual({ outcome: 'ok' });
    expect(await sut.snapshot(e)).toEqual({ ready: true, free: 0, users: { u1: 2, u2: 1 } });
    await sut.release(e, 'u1', 2, []);
    expect(await sut.snapshot(e)).toEqual({ ready: true, free: 2, users: { u2: 1 } });
  });

  it('takes named seats all or nothing and names the unavailable ones', async () => {
    const e = await built(seated(), ['A-1-1', 'A-1-2']);
    expect(await sut.tryHold(e, 'u1', 2, ['A-1-1', 'A-1-3'])).toEqual({ outcome: 'seat_unavailable', seatIds: ['A-1-3'] });
    expect(await sut.tryHold(e, 'u1', 1, ['A-1-1'])).toEqual({ outcome: 'ok' });
    expect((await sut.snapshot(e)).free).toEqual(['A-1-2']);
    await sut.release(e, 'u1', 1, ['A-1-1']);
    expect(((await sut.snapshot(e)).free as string[]).sort()).toEqual(['A-1-1', 'A-1-2']);
  });

  it('a rebuild freezes the event, logs the releases it may miss and adds back those after its read', async () => {
    const e = await built(ga(), 5, [['u1', 2]]);
    const since = await sut.beginRebuild(e.id);
    expect(await sut.beginRebuild(e.id)).toBeNull(); // one rebuild at a time
    expect(await sut.tryHold(e, 'u3', 1, [])).toEqual({ outcome: 'missing' });
    await sut.release(e, 'u1', 2, []); // after the read began: its SQL commit may be missing from it
    await sut.commitRebuild(e, since!, 10, new Map([['u3', 2]]));
    await sut.endRebuild(e.id);
    expect(await sut.snapshot(e)).toEqual({ ready: true, free: 12, users: { u3: 2 } });
    await sut.forget(e.id);
    expect(await sut.isReady(e.id)).toBe(false);
  });

  it('rebuilds a seated event and adds back the seats released during the read', async () => {
    const e = await built(seated(), ['stale']);
    const since = await sut.beginRebuild(e.id);
    await sut.release(e, 'u1', 2, ['A-1-3', 'A-1-4']);
    await sut.commitRebuild(e, since!, ['A-1-1', 'A-1-2'], new Map());
    await sut.endRebuild(e.id);
    expect(((await sut.snapshot(e)).free as string[]).sort()).toEqual(['A-1-1', 'A-1-2', 'A-1-3', 'A-1-4']);
  });

  it('keyed holds: unloaded until the claims are loaded, the claim written only by a winner, compare-and-set', async () => {
    const e = await built(ga(), 1);
    const claim = (key: string, value: string) => ({ key, value, ttlMs: 60_000 });
    expect(await sut.tryHold(e, 'u1', 1, [], claim('k1', 'P1'))).toEqual({ outcome: 'unloaded' });
    expect(await sut.claimsLoaded(e.id)).toBe(false);
    expect(await sut.beginClaimsLoad(e.id)).toBe(true);
    expect(await sut.beginClaimsLoad(e.id)).toBe(false);
    await sut.loadClaims(e.id, [['old', 'C-old']], 60_000);
    await sut.endClaimsLoad(e.id, true);
    expect(await sut.claimsLoaded(e.id)).toBe(true);
    expect(await sut.tryHold(e, 'u1', 1, [], claim('old', 'P0'))).toEqual({ outcome: 'claimed', claim: 'C-old' });
    expect(await sut.tryHold(e, 'u1', 1, [], claim('k1', 'P1'))).toEqual({ outcome: 'ok' });
    expect(await sut.tryHold(e, 'u2', 1, [], claim('k2', 'P2'))).toEqual({ outcome: 'sold_out', available: 0 });
    expect(await sut.claim(e.id, 'k2')).toBeNull(); // a loser leaves no claim behind
    expect(await sut.tryHold(e, 'u1', 1, [], claim('k1', 'P9'))).toEqual({ outcome: 'claimed', claim: 'P1' });
    await sut.loadClaims(e.id, [['k1', 'C-from-sql']], 60_000); // a live claim wins
    expect(await sut.claim(e.id, 'k1')).toBe('P1');
    expect(await sut.swapClaim(e.id, 'k1', 'wrong', 'C1', 60_000)).toBe(false);
    expect(await sut.swapClaim(e.id, 'k1', 'P1', 'C1', 60_000)).toBe(true);
    expect(await sut.claim(e.id, 'k1')).toBe('C1');
    expect(await sut.swapClaim(e.id, 'k1', 'C1', '', 0)).toBe(true);
    expect(await sut.claim(e.id, 'k1')).toBeNull();
  });
});
