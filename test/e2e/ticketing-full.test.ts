import { checkCounts } from '../../src/modules/ticketing/domain';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

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

  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: 'full', APP_MODULES: 'ticketing', RATE_LIMIT_PER_SECOND: '0' });
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
});
