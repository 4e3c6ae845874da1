import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { requestFingerprint } from '../../src/platform/idempotency/request-fingerprint';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

const future = (ms: number) => new Date(Date.now() + ms).toISOString();
const key = () => `k-${randomBytes(8).toString('hex')}`;

/**
 * Issue 9 item 8: a checkout whose Idempotency-Key was in flight when the app died. The crash is
 * reproduced as the state it leaves in SQL (the key row still PENDING, with or without the order
 * committed), which is what a SIGKILL at either point leaves behind.
 */
describe.each(['embedded', 'full'])('checkout Idempotency-Key left in flight by a crash (%s profile)', (profile) => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: profile, RATE_LIMIT_PER_SECOND: '0', APP_MODULES: 'ticketing' });
    db = t.app.get(DataSource);
  }, 60000);
  afterAll(() => t.close());

  const client = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(t.url, method, path, { key: KEYS.client, body, headers });
  const checkout = (holdId: string, body: unknown, k: string) => client('POST', `/api/v1/holds/${holdId}/checkout`, body, { 'idempotency-key': k });
  async function heldPlace(userId: string): Promise<string> {
    const ev = await http(t.url, 'POST', '/api/v1/events', {
      key: KEYS.admin,
      body: { name: 'GA', startsAt: future(86_400_000), generalAdmission: { capacity: 5, price: 10 } },
    });
    const h = await client('POST', `/api/v1/events/${ev.body.id}/holds`, { userId, quantity: 1 }, { 'idempotency-key': key() });
    expect(h.status).toBe(201);
    return h.body.holdId as string;
  }
  /** The key row as a crash leaves it: PENDING, `ageSeconds` old, naming the order it was creating. */
  const leaveInFlight = (k: string, ageSeconds: number, intent: string | null) =>
    db.query(
      `UPDATE idempotency_keys SET status = 'PENDING', response = $2::jsonb, created_at = now() - $3 * interval '1 second'
       WHERE scope = 'ticketing:checkout' AND key = $1`,
      [k, intent === null ? null : JSON.stringify({ intent }), ageSeconds],
    );
  const ordersOf = async (holdId: string) =>
    ((await db.query(`SELECT id, status FROM ticketing_orders WHERE hold_id = $1`, [holdId])) as { id: string; status: string }[]);

  it('after the order committed: 409 while recent, then the retry gets that order (one order, charged once)', async () => {
    const holdId = await heldPlace('u1');
    const k = key();
    const body = { paymentMethod: 'card', userId: 'u1' };
    const first = await checkout(holdId, body, k);
    expect(first.status).toBe(202);
    const orderId = first.body.orderId as string;

    await leaveInFlight(k, 0, orderId);
    const early = await checkout(holdId, body, k);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('request_in_progress');

    await leaveInFlight(k, 60, orderId);
    const retried = await checkout(holdId, body, k);
    expect(retried.status).toBe(202);
    expect(retried.body).toEqual({ orderId, holdId, status: 'PENDING' });
    expect((await checkout(holdId, body, k)).body.orderId).toBe(orderId); // completed: a plain replay now
    expect((await checkout(holdId, { ...body, paymentMethod: 'other' }, k)).status).toBe(422);

    let order = await client('GET', `/api/v1/orders/${orderId}`);
    for (let i = 0; i < 200 && order.body.status === 'PENDING'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      order = await client('GET', `/api/v1/orders/${orderId}`);
    }
    expect(order.body.status).toBe('CONFIRMED');
    expect(await ordersOf(holdId)).toEqual([{ id: orderId, status: 'CONFIRMED' }]);
  }, 60000);

  it('before anything committed: the retry takes the stale key over and checks the hold out', async () => {
    const holdId = await heldPlace('u2');
    const k = key();
    const body = { paymentMethod: 'card', userId: 'u2' };
    // What the old code left: a PENDING row with no response, as the crashed request inserted it.
    await db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at, expires_at)
       VALUES ('ticketing:checkout', $1, $2, 'PENDING', now() - interval '1 minute', now() + interval '1 day')`,
      [k, requestFingerprint({ holdId, ...body })],
    );
    const retried = await checkout(holdId, body, k);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ holdId, status: 'PENDING' });
    expect((await ordersOf(holdId)).map((o) => o.id)).toEqual([retried.body.orderId]);
    await leaveInFlight(k, 0, null);
    expect((await checkout(holdId, { ...body, paymentMethod: 'other' }, k)).status).toBe(422);
  }, 60000);
});
