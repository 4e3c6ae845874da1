import { OrdersService, ReconciliationService } from '../support/ticketing';
import { signWebhook } from '../support/ticketing';
import { checkCounts } from '../support/ticketing';
import { JobQueue } from '../../src/platform/queue/job-queue.port';
import { EventBus } from '../../src/platform/messaging/event-bus.port';
import { topicName } from '../../src/platform/messaging/topics';
import { http, KEYS, startTestApp, TestApp } from '../support/app';
import { hotState } from '../support/ticketing';

const future = (ms: number) => new Date(Date.now() + ms).toISOString();
let n = 0;
const key = () => `k-${Date.now()}-${++n}`;

describe('ticketing (embedded profile over HTTP)', () => {
  let t: TestApp;
  const admin = (method: string, path: string, body?: unknown) => http(t.url, method, path, { key: KEYS.admin, body });
  const client = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(t.url, method, path, { key: KEYS.client, body, headers });
  const hold = (eventId: string, body: unknown, k: string = key()) =>
    client('POST', `/api/v1/events/${eventId}/holds`, body, { 'idempotency-key': k });
  const checkout = (holdId: string, body: unknown, k: string = key()) =>
    client('POST', `/api/v1/holds/${holdId}/checkout`, body, { 'idempotency-key': k });
  const seated = (extra: Record<string, unknown> = {}) =>
    admin('POST', '/api/v1/events', {
      name: 'Show',
      startsAt: future(86_400_000),
      sections: [
        { name: 'A', rows: 2, seatsPerRow: 3, price: 50 },
        { name: 'B', rows: 1, seatsPerRow: 4, price: 20.5 },
      ],
      ...extra,
    });
  const ga = (capacity: number, extra: Record<string, unknown> = {}) =>
    admin('POST', '/api/v1/events', { name: 'GA', startsAt: future(86_400_000), generalAdmission: { capacity, price: 10 }, ...extra });
  const waitOrder = async (orderId: string) => {
    for (let i = 0; i < 100; i++) {
      const o = await client('GET', `/api/v1/orders/${orderId}`);
      if (o.body.status !== 'PENDING') return o.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('order still pending');
  };

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_SECOND: '0' });
  });
  afterAll(() => t.close());

  it('exports hold outcomes, reconcile repairs and the outbox backlog on /metrics', async () => {
    const e = await ga(1);
    expect((await hold(e.body.id, { userId: 'm1', quantity: 1 })).status).toBe(201);
    expect((await hold(e.body.id, { userId: 'm2', quantity: 1 })).status).toBe(409);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const value = (series: string) => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.split(' ')[1]);
    expect(value('ticketing_hold_requests_total{outcome="created"}')).toBeGreaterThanOrEqual(1);
    expect(value('ticketing_hold_requests_total{outcome="sold_out"}')).toBeGreaterThanOrEqual(1);
    expect(value('ticketing_outbox_backlog')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('# TYPE ticketing_reconcile_repairs_total counter');
  });

  describe('events', () => {
    it('creates a seated event (admin only) and reads it and its availability', async () => {
      expect((await http(t.url, 'POST', '/api/v1/events', { key: KEYS.client, body: {} })).status).toBe(403);
      const c = await seated();
      expect(c.status).toBe(201);
      expect(c.body).toEqual({ id: expect.any(String), capacity: 10 });
      const e = await client('GET', `/api/v1/events/${c.body.id}`);
      expect(e.status).toBe(200);
      expect(e.body).toMatchObject({ id: c.body.id, kind: 'SEATED', holdTtlSeconds: 300, maxPerUser: 4, capacity: 10 });
      const a = await client('GET', `/api/v1/events/${c.body.id}/availability?seats=true`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ capacity: 10, available: 10, held: 0, sold: 0 });
      expect(a.body.sections).toEqual([
        { name: 'A', capacity: 6, available: 6, held: 0, sold: 0 },
        { name: 'B', capacity: 4, available: 4, held: 0, sold: 0 },
      ]);
      expect(a.body.seats).toHaveLength(10);
      expect(a.body.seats).toContain('A-2-3');
    });

    it('rejects bad layouts: zero or negative capacity, both or neither layout, duplicate sections', async () => {
      const bad = [
        { name: 'x', startsAt: future(1000), generalAdmission: { capacity: 0, price: 1 } },
        { name: 'x', startsAt: future(1000), generalAdmission: { capacity: -5, price: 1 } },
        { name: 'x', startsAt: future(1000), sections: [{ name: 'A', rows: 0, seatsPerRow: 1, price: 1 }] },
        { name: 'x', startsAt: future(1000) },
        { name: 'x', startsAt: future(1000), generalAdmission: { capacity: 1, price: 1 }, sections: [{ name: 'A', rows: 1, seatsPerRow: 1, price: 1 }] },
        { name: 'x', startsAt: future(1000), sections: [{ name: 'A', rows: 1, seatsPerRow: 1, price: 1 }, { name: 'A', rows: 1, seatsPerRow: 1, price: 1 }] },
        { name: 'x', startsAt: 'tomorrow', generalAdmission: { capacity: 1, price: 1 } },
        { name: 'x', startsAt: future(1000), generalAdmission: { capacity: 1, price: 1 }, bogus: 1 },
      ];
      for (const body of bad) {
        const r = await admin('POST', '/api/v1/events', body);
        expect([r.status, JSON.stringify(body)]).toEqual([400, JSON.stringify(body)]);
      }
    });

    it('answers 404 for unknown or malformed event ids', async () => {
      expect((await client('GET', '/api/v1/events/nope')).status).toBe(404);
      expect((await client('GET', '/api/v1/events/00000000-0000-7000-8000-000000000000/availability')).status).toBe(404);
      expect((await hold('nope', { userId: 'u1', quantity: 1 })).status).toBe(404);
    });
  });

  describe('holds', () => {
    it('holds named seats, rejects taken and unknown seats, and is idempotent by key', async () => {
      const { body: ev } = await seated();
      const k = key();
      const h = await hold(ev.id, { userId: 'u1', seatIds: ['A-1-1', 'B-1-1'] }, k);
      expect(h.status).toBe(201);
      expect(h.body).toMatchObject({ holdId: expect.any(String), seatIds: ['A-1-1', 'B-1-1'], amount: 70.5 });
      expect(Date.parse(h.body.expiresAt)).toBeGreaterThan(Date.now() + 290_000);

      const again = await hold(ev.id, { userId: 'u1', seatIds: ['A-1-1', 'B-1-1'] }, k);
      expect(again.status).toBe(201);
      expect(again.body.holdId).toBe(h.body.holdId);
      const changed = await hold(ev.id, { userId: 'u1', seatIds: ['A-1-2'] }, k);
      expect(changed.status).toBe(422);
      expect(changed.body.code).toBe('idempotency_key_reused');

      const taken = await hold(ev.id, { userId: 'u2', seatIds: ['A-1-1', 'A-1-2'] });
      expect(taken.status).toBe(409);
      expect(taken.body.code).toBe('seat_unavailable');
      expect(taken.body.seatIds).toEqual(['A-1-1']);

      const unknown = await hold(ev.id, { userId: 'u2', seatIds: ['Z-R9-S9'] });
      expect(unknown.status).toBe(400);
      expect(unknown.body.code).toBe('unknown_seats');
      expect(unknown.body.seatIds).toEqual(['Z-R9-S9']);

      const a = await client('GET', `/api/v1/events/${ev.id}/availability`);
      expect(a.body).toMatchObject({ available: 8, held: 2, sold: 0 });
    });

    it('requires an Idempotency-Key and a valid body', async () => {
      const { body: ev } = await ga(10);
      expect((await client('POST', `/api/v1/events/${ev.id}/holds`, { userId: 'u1', quantity: 1 })).status).toBe(400);
      expect((await hold(ev.id, { userId: 'u1', quantity: 0 })).status).toBe(400);
      expect((await hold(ev.id, { userId: 'u1', quantity: -1 })).status).toBe(400);
      expect((await hold(ev.id, { quantity: 1 })).status).toBe(400);
      expect((await hold(ev.id, { userId: 'u1', seatIds: ['GA-GA-1'] })).status).toBe(400);
      expect((await hold(ev.id, { userId: 'u1' })).status).toBe(400);
    });

    it('enforces maxPerUser (403), sold out (409) and salesOpenAt (425)', async () => {
      const { body: ev } = await ga(5, { maxPerUser: 3 });
      expect((await hold(ev.id, { userId: 'u1', quantity: 4 })).status).toBe(403);
      expect((await hold(ev.id, { userId: 'u1', quantity: 2 })).status).toBe(201);
      const over = await hold(ev.id, { userId: 'u1', quantity: 2 });
      expect(over.status).toBe(403);
      expect(over.body.code).toBe('per_user_limit');
      expect((await hold(ev.id, { userId: 'u2', quantity: 3 })).status).toBe(201);
      const out = await hold(ev.id, { userId: 'u3', quantity: 1 });
      expect(out.status).toBe(409);
      expect(out.body.code).toBe('sold_out');

      const { body: later } = await ga(5, { salesOpenAt: future(3_600_000) });
      const early = await hold(later.id, { userId: 'u1', quantity: 1 });
      expect(early.status).toBe(425);
      expect(early.body.code).toBe('sales_not_open');
      expect(Number(early.headers.get('retry-after'))).toBeGreaterThan(3000);
    });

    it('releases a hold (owner only, once) and the places return to sale', async () => {
      const { body: ev } = await ga(2, { maxPerUser: 2 });
      const h = await hold(ev.id, { userId: 'u1', quantity: 2 });
      expect((await hold(ev.id, { userId: 'u2', quantity: 1 })).status).toBe(409);
      expect((await client('DELETE', `/api/v1/holds/${h.body.holdId}?userId=someone-else`)).status).toBe(403);
      const r = await client('DELETE', `/api/v1/holds/${h.body.holdId}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ holdId: h.body.holdId, status: 'RELEASED' });
      expect((await client('DELETE', `/api/v1/holds/${h.body.holdId}`)).status).toBe(409);
      expect((await client('DELETE', '/api/v1/holds/nope')).status).toBe(404);
      expect((await hold(ev.id, { userId: 'u2', quantity: 2 })).status).toBe(201);
    });

    it('expires holds at expiresAt through the delayed job', async () => {
      const { body: ev } = await ga(3, { holdTtlSeconds: 1 });
      const h = await hold(ev.id, { userId: 'u1', quantity: 3 });
      expect(h.status).toBe(201);
      for (let i = 0; i < 60; i++) {
        const a = await client('GET', `/api/v1/events/${ev.id}/availability`);
        if (a.body.available === 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const a = await client('GET', `/api/v1/events/${ev.id}/availability`);
      expect(a.body).toMatchObject({ available: 3, held: 0, sold: 0 });
      const c = await checkout(h.body.holdId, { paymentMethod: 'card' });
      expect(c.status).toBe(409);
      expect(c.body.code).toBe('hold_expired');
      expect((await hold(ev.id, { userId: 'u1', quantity: 3 })).status).toBe(201);
    });
  });

  describe('checkout', () => {
    it('confirms an order with one unique ticket per seat', async () => {
      const { body: ev } = await seated();
      const h = await hold(ev.id, { userId: 'buyer', seatIds: ['A-1-1', 'A-1-2'] });
      expect((await client('POST', `/api/v1/holds/${h.body.holdId}/checkout`, { paymentMethod: 'card' })).status).toBe(400);
      expect((await checkout(h.body.holdId, { paymentMethod: 'card', userId: 'thief' })).status).toBe(403);
      const k = key();
      const c = await checkout(h.body.holdId, { paymentMethod: 'flaky' }, k);
      expect(c.status).toBe(202);
      expect(c.body).toMatchObject({ orderId: expect.any(String), status: 'PENDING' });
      const replay = await checkout(h.body.holdId, { paymentMethod: 'flaky' }, k);
      expect(replay.status).toBe(202);
      expect(replay.body.orderId).toBe(c.body.orderId);
      expect((await checkout(h.body.holdId, { paymentMethod: 'card' })).status).toBe(409);

      const o = await waitOrder(c.body.orderId);
      expect(o).toMatchObject({ status: 'CONFIRMED', amount: 100, userId: 'buyer' });
      expect(o.tickets.map((x: { seatId: string }) => x.seatId)).toEqual(['A-1-1', 'A-1-2']);
      expect(new Set(o.tickets.map((x: { code: string }) => x.code)).size).toBe(2);
      const a = await client('GET', `/api/v1/events/${ev.id}/availability`);
      expect(a.body).toMatchObject({ available: 8, held: 0, sold: 2 });
      const mine = await client('GET', '/api/v1/users/buyer/orders');
      expect(mine.status).toBe(200);
      expect(mine.body.orders.map((x: { orderId: string }) => x.orderId)).toContain(c.body.orderId);
      expect((await client('GET', '/api/v1/orders/nope')).status).toBe(404);
      expect((await checkout('nope', { paymentMethod: 'card' })).status).toBe(404);
    });

    it('fails a declined order and returns its seats to sale', async () => {
      const { body: ev } = await seated();
      const h = await hold(ev.id, { userId: 'u9', seatIds: ['B-1-4'] });
      const c = await checkout(h.body.holdId, { paymentMethod: 'decline' });
      const o = await waitOrder(c.body.orderId);
      expect(o).toMatchObject({ status: 'FAILED', failureReason: 'card_declined', tickets: [] });
      const a = await client('GET', `/api/v1/events/${ev.id}/availability`);
      expect(a.body).toMatchObject({ available: 10, held: 0, sold: 0 });
      expect((await hold(ev.id, { userId: 'u10', seatIds: ['B-1-4'] })).status).toBe(201);
    });
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = await http(t.url, 'GET', '/docs-json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/events', '/api/v1/events/{eventId}/holds', '/api/v1/holds/{holdId}/checkout', '/api/v1/payments/webhook']),
    );
  });

  it('publishes order states on ticketing.orders (outbox), keyed by order', async () => {
    const seen: { key: string; value: string }[] = [];
    const sub = await t.app.get(EventBus).subscribe({
      groupId: `${t.config.NAMESPACE}.probe`,
      topics: [topicName(t.config, 'ticketing.orders')],
      handleBatch: async (b) => void seen.push(...b.messages),
    });
    try {
      const { body: ev } = await seated();
      const h = await hold(ev.id, { userId: 'pub', seatIds: ['B-1-2'] });
      const c = await checkout(h.body.holdId, { paymentMethod: 'card' });
      await waitOrder(c.body.orderId);
      for (let i = 0; i < 50 && !seen.some((m) => m.value.includes(c.body.orderId) && m.value.includes('order.confirmed')); i++) await new Promise((r) => setTimeout(r, 50));
      const msg = seen.find((m) => m.value.includes(c.body.orderId) && m.value.includes('order.confirmed'));
      expect(msg?.key).toBe(c.body.orderId);
      expect(JSON.parse(msg!.value)).toMatchObject({ type: 'order.confirmed', orderId: c.body.orderId, tickets: [{ seatId: 'B-1-2' }] });
    } finally {
      await sub.close();
    }
  });

  describe('inventory upkeep', () => {
    it('rebuilds lost hot inventory from SQL (lazily on a hold, and by the reconciler)', async () => {
      const { body: ev } = await ga(5, { maxPerUser: 2 });
      expect((await hold(ev.id, { userId: 'r1', quantity: 2 })).status).toBe(201);
      const hot = hotState(t.app, t.config.NAMESPACE);
      expect(await hot.flush(ev.id)).toBe(true);
      // The per-user count survives the loss: it is rebuilt from the seats r1 holds.
      expect((await hold(ev.id, { userId: 'r1', quantity: 1 })).status).toBe(403);
      expect((await hold(ev.id, { userId: 'r2', quantity: 2 })).status).toBe(201);
      await hot.flush(ev.id);
      expect(await t.app.get(ReconciliationService).rebuildMissingInventories()).toBeGreaterThanOrEqual(1);
      expect((await hold(ev.id, { userId: 'r3', quantity: 2 })).status).toBe(409);
      expect((await hold(ev.id, { userId: 'r3', quantity: 1 })).status).toBe(201);
      expect(await client('GET', `/api/v1/events/${ev.id}/availability`).then((r) => r.body)).toMatchObject({ available: 0, held: 5 });
    });

    it('the reconciler releases overdue holds whose expiry job was lost', async () => {
      const { body: ev } = await ga(2, { holdTtlSeconds: 1 });
      const h = await hold(ev.id, { userId: 'x1', quantity: 2 });
      const queue = t.app.get(JobQueue);
      expect(await queue.remove('ticketing-holds', `expire-${h.body.holdId}`)).toBe(true);
      await new Promise((r) => setTimeout(r, 1100));
      // The scheduler's own cron may get there first; either way the hold ends EXPIRED.
      await t.app.get(ReconciliationService).reconcileExpiredHolds();
      expect(await client('GET', `/api/v1/holds/${h.body.holdId}`).then((r) => r.body.status)).toBe('EXPIRED');
      expect((await hold(ev.id, { userId: 'x2', quantity: 2 })).status).toBe(201);
    });
  });

  describe('payment webhook', () => {
    it('applies a signed delivery once and rejects bad, stale and replayed ones with 401', async () => {
      const { body: ev } = await seated();
      const h = await hold(ev.id, { userId: 'wh', seatIds: ['A-2-1'] });
      const c = await checkout(h.body.holdId, { paymentMethod: 'async' });
      expect(c.status).toBe(202);
      const payload = JSON.stringify({ id: `evt-${c.body.orderId}`, type: 'payment.succeeded', orderId: c.body.orderId, reference: 'psp-1' });
      const now = Math.floor(Date.now() / 1000);
      const send = (sig: string | undefined, raw = payload) =>
        http(t.url, 'POST', '/api/v1/payments/webhook', { raw, headers: sig ? { 'tetrad-signature': sig } : {} });
      expect((await send(undefined)).status).toBe(401);
      expect((await send(signWebhook('wrong-secret', payload, now))).status).toBe(401);
      expect((await send(signWebhook('dev-webhook-secret', payload, now - 3600))).status).toBe(401);
      expect((await client('GET', `/api/v1/orders/${c.body.orderId}`)).body.status).toBe('PENDING');
      expect(await t.app.get(OrdersService).requeueStalePayments(0)).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 100));
      expect((await client('GET', `/api/v1/orders/${c.body.orderId}`)).body.status).toBe('PENDING');
      const ok = await send(signWebhook('dev-webhook-secret', payload, now));
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ received: true, orderId: c.body.orderId, applied: true });
      const replay = await send(signWebhook('dev-webhook-secret', payload, now));
      expect(replay.status).toBe(401);
      const o = await client('GET', `/api/v1/orders/${c.body.orderId}`);
      expect(o.body).toMatchObject({ status: 'CONFIRMED', tickets: [{ seatId: 'A-2-1', code: expect.any(String) }] });
    });
  });

  it('never oversells: 2,000 parallel holds on a 1,000-place event', async () => {
    const { body: ev } = await ga(1000, { maxPerUser: 1 });
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => hold(ev.id, { userId: `fan-${i}`, quantity: 1 })),
    );
    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(byStatus)).toEqual({ 201: 1000, 409: 1000 });
    const seats = results.filter((r) => r.status === 201).flatMap((r) => r.body.seatIds as string[]);
    expect(new Set(seats).size).toBe(1000);
    const a = await client('GET', `/api/v1/events/${ev.id}/availability`);
    expect(a.body).toMatchObject({ capacity: 1000, available: 0, held: 1000, sold: 0 });
    expect(a.body.available + a.body.held + a.body.sold).toBe(a.body.capacity);
    expect(checkCounts(a.body)).toBe(true);
  }, 180_000);
});
