import { signWebhook } from '../support/ticketing';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

/**
 * The platform hardening that depends on a backend, on the full profile: the per-IP limit counts in
 * Redis (shared by every instance), and the webhook's raw-body signature check on PostgreSQL.
 */
const SECRET = 'full-hardening-webhook-secret';

describe('hardening on the full profile (PostgreSQL, Redis, Kafka)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      APP_PROFILE: 'full',
      APP_MODULES: 'ticketing',
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_PER_IP_PER_SECOND: '10',
      TICKETING_WEBHOOK_SECRETS: SECRET,
    });
  });
  afterAll(() => t?.close());

  const fresh = () => new Promise((r) => setTimeout(r, 1100)); // a new one-second limit window
  const admin = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    http(t.url, method, path, { key: KEYS.admin, body, headers });

  // Idempotency keys and webhook event ids live in the shared test database: unique per run.
  it('verifies the webhook HMAC over the JSON bytes received', async () => {
    await fresh();
    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    const ev = await admin('POST', '/api/v1/events', { name: 'raw', startsAt, generalAdmission: { capacity: 2, price: 10 } });
    const h = await admin('POST', `/api/v1/events/${ev.body.id}/holds`, { userId: 'raw-full', quantity: 1 }, { 'idempotency-key': `h-raw-${t.config.NAMESPACE}` });
    const c = await admin('POST', `/api/v1/holds/${h.body.holdId}/checkout`, { paymentMethod: 'async' }, { 'idempotency-key': `c-raw-${t.config.NAMESPACE}` });
    expect(c.status).toBe(202);
    const raw = `{\n  "type": "payment.succeeded",\n  "id": "evt-raw-${t.config.NAMESPACE}",\n  "orderId": "${c.body.orderId}"\n}`;
    const send = (signedOver: string) =>
      http(t.url, 'POST', '/api/v1/payments/webhook', {
        raw,
        headers: { 'tetrad-signature': signWebhook(SECRET, signedOver, Math.floor(Date.now() / 1000)) },
      });
    expect((await send(JSON.stringify(JSON.parse(raw)))).status).toBe(401);
    const ok = await send(raw);
    expect(ok).toMatchObject({ status: 200, body: { received: true, orderId: c.body.orderId, applied: true } });
  });

  it('limits keyless requests per IP in Redis, before the key check', async () => {
    await fresh();
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) statuses.push((await http(t.url, 'GET', '/api/v1/orders/o-1')).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
  });
});
