import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { hotState, ReconciliationService } from '../support/ticketing';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

const future = (ms: number) => new Date(Date.now() + ms).toISOString();

/**
 * Issue 9 item 8: after a crash mid-sale the hot inventory held fewer places than SQL, buyers were
 * told `sold_out` while places were free, and the repair waited for two quiet reconciler passes
 * (after the sale). Here the drift is induced while a hold/release load runs (one event's Redis
 * count lowered by 30, another's deleted), ONE reconcile pass runs under that load, and then the
 * store must not be short of SQL, holds must succeed again, and SQL must never hold more than the
 * capacity.
 */
describe.each(['full', 'embedded'])('inventory drift repaired during a sale (%s profile)', (profile) => {
  let t: TestApp;
  let db: DataSource;
  let hot: ReturnType<typeof hotState>;
  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: profile, RATE_LIMIT_PER_SECOND: '0', APP_MODULES: 'ticketing', APP_ROLES: 'api,worker' });
    db = t.app.get(DataSource);
    hot = hotState(t.app, t.config.NAMESPACE);
  }, 60000);
  afterAll(() => t.close());

  const client = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(t.url, method, path, { key: KEYS.client, body, headers });
  const sqlFree = async (eventId: string) =>
    Number(((await db.query(`SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`, [eventId])) as { n: string }[])[0].n);

  it('one reconcile pass under a hold/release load restores the places the store lost, never overselling', async () => {
    const capacity = 200;
    const events: string[] = [];
    for (let i = 0; i < 2; i++) {
      const ev = await http(t.url, 'POST', '/api/v1/events', {
        key: KEYS.admin,
        body: { name: `drift-${i}`, startsAt: future(86_400_000), generalAdmission: { capacity, price: 10 } },
      });
      expect(ev.status).toBe(201);
      events.push(ev.body.id);
    }
    const [altered, deleted] = events;
    const outcomes = new Map<string, { ok: number; soldOut: number; okAfterRepair: number }>(events.map((e) => [e, { ok: 0, soldOut: 0, okAfterRepair: 0 }]));
    const unexpected: string[] = [];
    let repaired = false;
    let stop = false;
    let n = 0;
    // Buyers on both events: every third hold is kept, the others are released again, so SQL's
    // state keeps changing between reconcile passes (the old repair never saw the same drift twice).
    // Each buyer alternates between the two events on its own count: choosing by the shared counter
    // let a steady round-robin of the six buyers (n advancing by one per turn) send every buyer to
    // the same event, and the other got no hold at all after the repair (seen once in about six runs).
    const worker = async (w: number) => {
      for (let turn = w; !stop; turn++) {
        const eventId = events[turn % 2];
        const user = `u-${w}-${++n}`;
        const h = await client('POST', `/api/v1/events/${eventId}/holds`, { userId: user, quantity: 1 }, { 'idempotency-key': `k-${randomBytes(8).toString('hex')}` });
        const o = outcomes.get(eventId)!;
        if (h.status === 201) {
          o.ok++;
          if (repaired) o.okAfterRepair++;
          if (n % 3 !== 0) {
            const r = await client('DELETE', `/api/v1/holds/${h.body.holdId}?userId=${user}`);
            if (r.status !== 200) unexpected.push(`release ${r.status} ${JSON.stringify(r.body)}`);
          }
        } else if (h.status === 409 && h.body.code === 'sold_out') o.soldOut++;
        else unexpected.push(`hold ${h.status} ${JSON.stringify(h.body)}`); // never a 5xx
      }
    };
    const load = Array.from({ length: 6 }, (_, w) => worker(w));
    try {
      const t0 = Date.now();
      while (events.some((e) => outcomes.get(e)!.ok < 3) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 25));
      expect(unexpected.slice(0, 5)).toEqual([]);
      expect(Math.min(...events.map((e) => outcomes.get(e)!.ok))).toBeGreaterThanOrEqual(3);
      // The drift a crash leaves: places taken in the store that SQL never got.
      await hot.addGaFree(altered, -30);
      await hot.dropGaFree(deleted);
      await new Promise((r) => setTimeout(r, 300));
      expect(unexpected.slice(0, 5)).toEqual([]);
      // The store is short of SQL by more than the 6 holds that can be in flight: buyers are being
      // turned away (or, on the deleted count, served only from places released since).
      for (const eventId of events) expect((await hot.gaFree(eventId)) + 6).toBeLessThan(await sqlFree(eventId));
      const rebuilt = await t.app.get(ReconciliationService).repairInventoryDrift();
      expect(rebuilt).toBeGreaterThanOrEqual(2);
      repaired = true;
      for (let i = 0; i < 800 && events.some((e) => outcomes.get(e)!.okAfterRepair === 0); i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      stop = true;
      await Promise.all(load);
    }
    expect(unexpected.slice(0, 5)).toEqual([]);
    // Holds went on through the repair, and the event whose count was deleted sells again.
    expect(outcomes.get(deleted)!.okAfterRepair).toBeGreaterThan(0);
    expect(outcomes.get(altered)!.okAfterRepair).toBeGreaterThan(0);
    for (const eventId of events) {
      // Quiet now: the store may be high (harmless, SQL's guarded write refuses), never low.
      const kvFree = await hot.gaFree(eventId);
      const free = await sqlFree(eventId);
      expect(kvFree).toBeGreaterThanOrEqual(free);
      const a = await client('GET', `/api/v1/events/${eventId}/availability`);
      expect(a.body.available + a.body.held + a.body.sold).toBe(capacity);
      // Every place not free belongs to exactly one live hold: none sold or held twice.
      const [{ placed }] = await db.query(
        `SELECT COALESCE(sum(quantity), 0) AS placed FROM ticketing_holds WHERE event_id = $1 AND status IN ('ACTIVE', 'CHECKOUT', 'CONVERTED')`,
        [eventId],
      );
      expect(Number(placed)).toBe(capacity - free);
    }
  }, 120000);
});
