import { ReconciliationService } from '../support/ticketing';
import { KeyValueStore } from '../../src/platform/kv/key-value-store.port';
import { signWebhook } from '../support/ticketing';
import { checkCounts } from '../support/ticketing';
import { http, KEYS, pollUntil, startTestApp, TestApp } from '../support/app';

const SECRET = 'full-profile-webhook-secret';

/**
 * The same flows on the full profile: the hold decision runs as Lua in Redis, holds expire
 * through BullMQ delayed jobs, and SQL is PostgreSQL.
 */
describe('ticketing (full profile: PostgreSQL, Redis, BullMQ)', () => {
  let t: TestApp;
  let n = 0;
  const key = () => `kf-${Date.now()}-${++n}`;
  const hold = (eventId: string, body: unknown) =>
    http(t.url, 'POST', `/api/v1/events/${eventId}/holds`, { key: KEYS.client, body, headers: { 'idempotency-key': key() } });
  const ga = async (capacity: number, extra: Record<string, unknown> = {}) =>
    (
      await http(t.url, 'POST', '/api/v1/events', {
        key: KEYS.admin,
        body: { name: 'GA', startsAt: new Date(Date.now() + 86_400_000).toISOString(), generalAdmission: { capacity, price: 10 }, ...extra },
      })
    ).body as { id: string };
  const availability = async (id: string) => (await http(t.url, 'GET', `/api/v1/events/${id}/availability`, { key: KEYS.client })).body;
  const checkout = (holdId: string, paymentMethod: string) =>
    http(t.url, 'POST', `/api/v1/holds/${holdId}/checkout`, { key: KEYS.client, body: { paymentMethod }, headers: { 'idempotency-key': key() } });
  const order = async (id: string) => (await http(t.url, 'GET', `/api/v1/orders/${id}`, { key: KEYS.client })).body;
  const settled = async (id: string) => {
    for (let i = 0; i < 100; i++) {
      const o = await order(id);
      if (o.status !== 'PENDING') return o;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`order ${id} still PENDING`);
  };
  const webhook = (body: Record<string, unknown>, secret = SECRET) => {
    const raw = JSON.stringify(body);
    return http(t.url, 'POST', '/api/v1/payments/webhook', {
      raw,
      headers: { 'content-type': 'text/plain', 'tetrad-signature': signWebhook(secret, raw, Math.floor(Date.now() / 1000)) },
    });
  };
  /** The simulated provider's own record of a payment (its ledger, keyed by order id). */
  const ledger = async (orderId: string) => JSON.parse((await t.app.get(KeyValueStore).get(`${t.config.NAMESPACE}:simpay:${orderId}`)) ?? 'null');

  beforeAll(async () => {
    t = await startTestApp({
      APP_PROFILE: 'full',
      APP_MODULES: 'ticketing',
      RATE_LIMIT_PER_SECOND: '0',
      TICKETING_WEBHOOK_SECRETS: SECRET,
      // Payment deadline = the later of the hold's expiry and checkout + 1 s: short holds expire their orders fast.
      TICKETING_PAYMENT_WINDOW_SECONDS: '1',
    });
  });
  afterAll(() => t?.close());

  it('never oversells through the Lua script: 2,000 parallel holds on 1,000 places', async () => {
    const ev = await ga(1000, { maxPerUser: 1 });
    const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => hold(ev.id, { userId: `fan-${i}`, quantity: 1 })));
    const byStatus: Record<number, number> = {};
    for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    expect(byStatus).toEqual({ 201: 1000, 409: 1000 });
    const a = await availability(ev.id);
    expect(a).toMatchObject({ capacity: 1000, available: 0, held: 1000, sold: 0 });
    expect(checkCounts(a)).toBe(true);
  }, 180_000);

  it('enforces maxPerUser in Lua and expires holds through BullMQ', async () => {
    const ev = await ga(4, { maxPerUser: 2, holdTtlSeconds: 1 });
    expect((await hold(ev.id, { userId: 'u1', quantity: 2 })).status).toBe(201);
    expect((await hold(ev.id, { userId: 'u1', quantity: 1 })).status).toBe(403);
    for (let i = 0; i < 100 && (await availability(ev.id)).available !== 4; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await availability(ev.id)).toMatchObject({ available: 4, held: 0 });
    expect((await hold(ev.id, { userId: 'u1', quantity: 2 })).status).toBe(201);
  }, 60_000);

  it('checks out through BullMQ: CONFIRMED with one ticket per seat, declined → FAILED with the places back', async () => {
    const ev = await ga(6, { maxPerUser: 3 });
    const h1 = await hold(ev.id, { userId: 'buyer', quantity: 3 });
    const h2 = await hold(ev.id, { userId: 'decliner', quantity: 2 });
    const [c1, c2] = await Promise.all([checkout(h1.body.holdId, 'flaky'), checkout(h2.body.holdId, 'decline')]);
    expect([c1.status, c2.status]).toEqual([202, 202]);
    const ok = await settled(c1.body.orderId);
    expect(ok).toMatchObject({ status: 'CONFIRMED', amount: 30, userId: 'buyer', version: 2 });
    expect(ok.tickets.map((x: { seatId: string }) => x.seatId)).toEqual(h1.body.seatIds);
    expect(new Set(ok.tickets.map((x: { code: string }) => x.code)).size).toBe(3);
    expect(await settled(c2.body.orderId)).toMatchObject({ status: 'FAILED', failureReason: 'card_declined', tickets: [] });
    expect(await ledger(c1.body.orderId)).toMatchObject({ status: 'captured', amountCents: 3000 });
    expect(await ledger(c2.body.orderId)).toMatchObject({ status: 'declined' });
    const a = await availability(ev.id);
    expect(a).toMatchObject({ capacity: 6, available: 3, held: 0, sold: 3 });
    expect(checkCounts(a)).toBe(true);
    // The declined places are on sale again, in Redis too.
    expect((await hold(ev.id, { userId: 'next', quantity: 3 })).status).toBe(201);
    expect(await t.app.get(ReconciliationService).inventoryDrift(ev.id)).toBeNull();
  }, 60_000);

  it('applies a signed webhook once; bad signatures are 401; an unpaid order EXPIRES at its deadline and a late success is voided', async () => {
    const ev = await ga(4, { holdTtlSeconds: 1 });
    const paid = await hold(ev.id, { userId: 'wh1', quantity: 1 });
    const late = await hold(ev.id, { userId: 'wh2', quantity: 2 });
    const c1 = await checkout(paid.body.holdId, 'async');
    const c2 = await checkout(late.body.holdId, 'async');
    const success = (orderId: string) => ({ id: `evt-${orderId}`, type: 'payment.succeeded', orderId, reference: `psp-${orderId}` });
    expect((await webhook(success(c1.body.orderId), 'not-the-secret')).status).toBe(401);
    const ok = await webhook(success(c1.body.orderId));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ received: true, orderId: c1.body.orderId, applied: true });
    expect((await webhook(success(c1.body.orderId))).status).toBe(401); // replayed delivery
    expect(await order(c1.body.orderId)).toMatchObject({ status: 'CONFIRMED', tickets: [{ seatId: paid.body.seatIds[0] }] });

    // No outcome for c2 before its deadline (hold expiry, 1 s): the deadline job expires it.
    const expired = await settled(c2.body.orderId);
    expect(expired).toMatchObject({ status: 'EXPIRED', failureReason: 'payment_deadline_passed', tickets: [] });
    expect(Date.parse(expired.expiresAt)).toBeGreaterThanOrEqual(Date.parse(late.body.expiresAt));
    // The void follows the EXPIRED commit (settleVoid runs after it, retried until it sticks), so
    // the ledger may still say pending for a moment after the order reads EXPIRED.
    expect(await pollUntil(() => ledger(c2.body.orderId), (l) => l?.status === 'voided', 15_000, 50)).toMatchObject({ status: 'voided' });
    expect((await http(t.url, 'GET', `/api/v1/holds/${late.body.holdId}`, { key: KEYS.client })).body.status).toBe('EXPIRED');
    // A success arriving afterwards does not revive it (the places may be sold again by now).
    const after = await webhook({ ...success(c2.body.orderId), id: `evt2-${c2.body.orderId}` });
    expect(after.body).toEqual({ received: true, orderId: c2.body.orderId, applied: false });
    expect(await order(c2.body.orderId)).toMatchObject({ status: 'EXPIRED' });
    const a = await availability(ev.id);
    expect(a).toMatchObject({ available: 3, held: 0, sold: 1 });
    expect(checkCounts(a)).toBe(true);
    expect(await t.app.get(ReconciliationService).inventoryDrift(ev.id)).toBeNull();
  }, 60_000);
});
