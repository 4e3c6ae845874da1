import { randomBytes } from 'node:crypto';
import { http, KEYS, startTestApp, TestApp, until } from '../support/app';
import { freePort, PrivateRedis } from '../support/processes';

/**
 * A Redis that is down right now (a SIGKILLed primary, a failover in progress) is a 503
 * problem+json with Retry-After, never a 500; once it is back the same routes work again without
 * an app restart. The app's only Redis is a private redis-server this test stops and restarts,
 * and the rate limiters stay on so their Redis calls are part of every request.
 */
describe('dependency outage (full profile, private Redis)', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  const boardId = `outage-${randomBytes(4).toString('hex')}`;
  let eventId = '';
  let n = 0;
  let redisDown = false;

  const readBoard = () => http(t.url, 'GET', `/api/v1/leaderboards/${boardId}/top?limit=10`, { key: KEYS.client });
  const hold = () =>
    http(t.url, 'POST', `/api/v1/events/${eventId}/holds`, {
      key: KEYS.client,
      body: { userId: `fan-${++n}`, quantity: 1 },
      headers: { 'idempotency-key': `outage-${randomBytes(6).toString('hex')}` },
    });

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    t = await startTestApp({
      APP_PROFILE: 'full',
      APP_MODULES: 'leaderboard,ticketing',
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_SECOND: '1000',
      LEADERBOARD_TOP_CACHE_MS: '0',
    });
    expect(t.config.REDIS_URL).toBe(redis.url);
    expect((await http(t.url, 'POST', '/api/v1/leaderboards', { key: KEYS.admin, body: { id: boardId } })).status).toBe(201);
    const ev = await http(t.url, 'POST', '/api/v1/events', {
      key: KEYS.admin,
      body: { name: 'Outage', startsAt: new Date(Date.now() + 86_400_000).toISOString(), generalAdmission: { capacity: 100, price: 10 } },
    });
    expect(ev.status).toBe(201);
    eventId = ev.body.id;
  }, 120000);

  afterAll(async () => {
    // A failed assertion may leave Redis stopped: bring it back so the app closes promptly.
    if (redisDown) await redis.start();
    await t?.close();
    await redis?.stop();
  });

  it('answers 503 + Retry-After while Redis is down, and serves again once it is back', async () => {
    expect((await readBoard()).status).toBe(200);
    expect((await hold()).status).toBe(201);

    await redis.stop();
    redisDown = true;
    for (const call of [readBoard, hold, readBoard, hold]) {
      const r = await call();
      expect({ status: r.status, type: r.headers.get('content-type'), code: r.body?.code }).toEqual({
        status: 503,
        type: 'application/problem+json; charset=utf-8',
        code: 'dependency_unavailable',
      });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+|127\.0\.0\.1/);
    }
    // The per-IP and per-key limiters ran on every call above and fell back to in-process limits
    // instead of refusing: a route that needs no Redis still serves during the outage.
    expect((await http(t.url, 'GET', '/api/v1/whoami', { key: KEYS.client })).status).toBe(200);

    await redis.start();
    redisDown = false;
    await until(async () => (await readBoard()).status === 200, 30000);
    await until(async () => (await hold()).status === 201, 30000);
  }, 90000);
});
