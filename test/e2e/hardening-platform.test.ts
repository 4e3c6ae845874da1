import { signWebhook } from '../../src/modules/ticketing/domain';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

/**
 * Issue 9's HTTP-platform defects, each reproduced over HTTP on the embedded app: client input
 * that reached a 500 (NUL bytes, lone surrogates, deep JSON, out-of-range numbers), valid ids the
 * router refused, and router-level errors that were not problem+json.
 */
const future = (ms: number) => new Date(Date.now() + ms).toISOString();

function expectProblem(r: { status: number; headers: Headers; body: any }, status: number, code?: string): void {
  expect({ status: r.status, type: r.headers.get('content-type'), code: r.body?.code }).toEqual({
    status,
    type: 'application/problem+json; charset=utf-8',
    code: code ?? expect.any(String),
  });
}

describe('hardening: client input never reaches a 500 (embedded)', () => {
  let t: TestApp;
  const as = (key: string) => (method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
    http(t.url, method, path, { key, ...opts });
  const admin = (method: string, path: string, opts?: { body?: unknown; raw?: string; headers?: Record<string, string> }) =>
    as(KEYS.admin)(method, path, opts);

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_SECOND: '0' });
    expect((await admin('POST', '/api/v1/leaderboards', { body: { id: 'hb' } })).status).toBe(201);
  });
  afterAll(() => t.close());

  describe('NUL bytes and lone surrogates', () => {
    it.each([
      ['GET', '/api/v1/events/a%00b', 'eventId'],
      ['GET', '/api/v1/events/a%00b/availability', 'eventId'],
      ['GET', '/api/v1/holds/a%00b', 'holdId'],
      ['DELETE', '/api/v1/holds/a%00b', 'holdId'],
      ['GET', '/api/v1/orders/a%00b', 'orderId'],
      ['GET', '/api/v1/users/a%00b/orders', 'userId'],
      ['GET', '/api/v1/events/a%00b/queue/t', 'eventId'],
      ['GET', '/api/v1/events/e/queue/a%00b', 'token'],
      ['GET', '/api/v1/ads/campaigns/a%00b', 'id'],
      ['GET', '/api/v1/stats/ads/a%00b', 'adId'],
      ['GET', '/api/v1/stats/campaigns/a%00b', 'campaignId'],
      ['GET', '/api/v1/tasks/a%00b', 'taskId'],
      ['DELETE', '/api/v1/tasks/a%00b', 'taskId'],
      ['GET', '/api/v1/gpu/nodes/a%00b', 'id'],
      ['GET', '/api/v1/leaderboards/a%00b', 'boardId'],
      ['GET', '/api/v1/leaderboards/hb/players/a%00b', 'playerId'],
      ['DELETE', '/api/v1/leaderboards/hb/players/a%00b', 'playerId'],
      ['GET', '/api/v1/stats/ads/x?from=1%00', 'from'],
      ['GET', '/api/v1/reports/daily?date=2026-01-01&campaignId=a%00b', 'campaignId'],
      ['GET', '/api/v1/ads/serve?placement=p%00&userId=u', 'placement'],
    ])('%s %s is a 400 invalid_text naming %s', async (method, path, field) => {
      const r = await admin(method, path);
      expectProblem(r, 400, 'invalid_text');
      expect(r.body.errors).toEqual([expect.objectContaining({ field })]);
    });

    it('rejects a path id that is not valid UTF-8 (a lone surrogate) with a 400 problem', async () => {
      expectProblem(await admin('GET', '/api/v1/events/a%ED%A0%80b'), 400);
    });

    it.each([
      ['event name', 'POST', '/api/v1/events', { name: 'a\u0000b', startsAt: future(86_400_000), generalAdmission: { capacity: 1, price: 1 } }, 'name'],
      ['event name (lone surrogate)', 'POST', '/api/v1/events', { name: 'a\ud800b', startsAt: future(86_400_000), generalAdmission: { capacity: 1, price: 1 } }, 'name'],
      ['campaign name', 'POST', '/api/v1/ads/campaigns', { name: 'x\u0000', advertiserId: 'a', ads: [{ id: 'ad', creativeUrl: 'https://x.example/1.png', weight: 1 }] }, 'name'],
      ['board metadata key', 'POST', '/api/v1/leaderboards', { id: 'hb-meta', metadata: { 'k\u0000': 1 } }, 'metadata.k\u0000'],
      ['board metadata value', 'POST', '/api/v1/leaderboards', { id: 'hb-meta', metadata: { k: ['ok', '\udc00'] } }, 'metadata.k[1]'],
      ['score metadata', 'PUT', '/api/v1/leaderboards/hb/scores/p1', { score: 1, metadata: { nick: 'a\u0000' } }, 'metadata.nick'],
      ['batch score metadata', 'POST', '/api/v1/leaderboards/hb/scores:batch', { entries: [{ playerId: 'p1', score: 1, metadata: { '\ud800': 1 } }] }, 'entries[0].metadata.\ud800'],
      ['node labels', 'POST', '/api/v1/gpu/nodes', { id: 'n-nul', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 80, labels: { zone: 'a\u0000' } }, 'labels.zone'],
      ['task command', 'POST', '/api/v1/tasks', { userId: 'u', tier: 'normal', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 1, command: 'echo \u0000' }, 'command'],
    ])('rejects the %s with a 400 invalid_text', async (_what, method, path, body, field) => {
      const r = await admin(method, path, { body });
      expectProblem(r, 400, 'invalid_text');
      expect(r.body.errors).toEqual([expect.objectContaining({ field })]);
    });

    it('still accepts well-formed text outside the Basic Multilingual Plane', async () => {
      const r = await admin('POST', '/api/v1/leaderboards', { body: { id: 'hb-emoji', metadata: { name: 'Zoë 🎮' } } });
      expect(r.status).toBe(201);
    });
  });

  describe('deeply nested JSON', () => {
    const deep = (levels: number) => `{"name":${'['.repeat(levels)}${']'.repeat(levels)}}`;

    it('answers 2,000 levels with a 400 problem on an authenticated route', async () => {
      expectProblem(await admin('POST', '/api/v1/events', { raw: deep(2000) }), 400, 'json_too_deep');
    });

    it('answers 2,000 levels with a 400 problem on the unauthenticated payment webhook', async () => {
      expectProblem(await http(t.url, 'POST', '/api/v1/payments/webhook', { raw: deep(2000) }), 400, 'json_too_deep');
    });

    it('counts brackets inside strings as text, not nesting', async () => {
      const r = await admin('POST', '/api/v1/leaderboards', { body: { id: 'hb-brackets', metadata: { s: '['.repeat(500) } } });
      expect(r.status).toBe(201);
    });
  });

  describe('numbers out of range or precision', () => {
    const event = (price: number) =>
      admin('POST', '/api/v1/events', {
        raw: `{"name":"n","startsAt":"${future(86_400_000)}","generalAdmission":{"capacity":1,"price":${price}}}`,
      });

    it.each(['1e-7', '5e-324', '0.001', '1.005'])('rejects a price of %s', async (price) => {
      const r = await event(price as unknown as number);
      expectProblem(r, 400, 'validation_failed');
      expect(r.body.errors).toEqual([expect.objectContaining({ field: 'generalAdmission.price' })]);
    });

    it('rejects a seated section price with more than two decimals', async () => {
      const r = await admin('POST', '/api/v1/events', {
        body: { name: 'n', startsAt: future(86_400_000), sections: [{ name: 'A', rows: 1, seatsPerRow: 1, price: 1e-7 }] },
      });
      expectProblem(r, 400, 'validation_failed');
    });

    it('accepts prices with up to two decimals', async () => {
      for (const price of [0, 49.99, 20.5, 1_000_000]) expect((await event(price)).status).toBe(201);
    });

    it.each([
      '/api/v1/leaderboards?offset=1e19',
      '/api/v1/leaderboards?offset=10000000000000000000',
      '/api/v1/leaderboards/hb/top?offset=1e19',
      '/api/v1/leaderboards/hb/seasons/1/top?offset=1e19',
    ])('rejects GET %s', async (path) => {
      expectProblem(await admin('GET', path), 400, 'validation_failed');
    });

    it.each(['100000000000000000000', '1e20', '2147483648', '0', '-1'])('rejects season %s', async (season) => {
      expectProblem(await admin('GET', `/api/v1/leaderboards/hb/seasons/${season}/top`), 400);
    });

    it.each([
      ['/api/v1/gpu/nodes', { id: 'n-tiny', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 5e-324 }],
      ['/api/v1/tasks', { userId: 'u', tier: 'normal', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 5e-324 }],
    ])('rejects a gpuMemoryGb of 5e-324 on POST %s (a PostgreSQL real cannot hold it)', async (path, body) => {
      const r = await admin('POST', path, { body, headers: { 'idempotency-key': 'tiny-memory' } });
      expectProblem(r, 400, 'validation_failed');
      expect(r.body.errors).toEqual([expect.objectContaining({ field: 'gpuMemoryGb' })]);
    });

    it.each([
      [{ nodeId: 'n', attempt: 1e20, event: 'ACCEPTED' }, 'attempt'],
      [{ nodeId: 'n', attempt: 1, event: 'FAILED', exitCode: 1e20 }, 'exitCode'],
    ])('rejects a task report with %j', async (body, field) => {
      const r = await admin('POST', '/api/v1/gpu/tasks/t-1/report', { body });
      expectProblem(r, 400, 'validation_failed');
      expect(r.body.errors).toEqual([expect.objectContaining({ field })]);
    });
  });

  describe('content types and the signed webhook', () => {
    it.each([
      ['application/x-www-form-urlencoded', 'name=a&startsAt=2030-01-01T00:00:00Z'],
      ['text/plain', '{"name":"a"}'],
      ['multipart/form-data; boundary=x', '--x--'],
    ])('answers %s on a JSON route with 415 problem+json', async (type, raw) => {
      expectProblem(await admin('POST', '/api/v1/events', { raw, headers: { 'content-type': type } }), 415, 'unsupported_media_type');
    });

    const pendingOrder = async (user: string): Promise<string> => {
      const ev = await admin('POST', '/api/v1/events', { body: { name: 'wh', startsAt: future(86_400_000), generalAdmission: { capacity: 5, price: 10 } } });
      const h = await admin('POST', `/api/v1/events/${ev.body.id}/holds`, { body: { userId: user, quantity: 1 }, headers: { 'idempotency-key': `h-${user}` } });
      const c = await admin('POST', `/api/v1/holds/${h.body.holdId}/checkout`, { body: { paymentMethod: 'async' }, headers: { 'idempotency-key': `c-${user}` } });
      expect(c.status).toBe(202);
      return c.body.orderId as string;
    };
    const deliver = (raw: string | Buffer, type: string, signedOver: string | Buffer = raw) =>
      fetch(`${t.url}/api/v1/payments/webhook`, {
        method: 'POST',
        headers: { 'content-type': type, 'tetrad-signature': signWebhook('dev-webhook-secret', signedOver, Math.floor(Date.now() / 1000)) },
        body: raw,
      }).then(async (r) => ({ status: r.status, body: await r.json() }));

    it('verifies the HMAC over the bytes received, not over a re-serialization of the parsed JSON', async () => {
      const orderId = await pendingOrder('raw-1');
      // Pretty-printed, keys in the provider's order: JSON.stringify(JSON.parse(raw)) differs from raw.
      const raw = `{\n  "type": "payment.succeeded",\n  "id": "evt-raw-1",\n  "orderId": "${orderId}"\n}`;
      const ok = await deliver(raw, 'application/json');
      expect(ok).toEqual({ status: 200, body: { received: true, orderId, applied: true } });
    });

    it('rejects a delivery signed over the compact re-serialization instead of the bytes sent', async () => {
      const orderId = await pendingOrder('raw-2');
      const raw = `{ "id": "evt-raw-2", "type": "payment.succeeded", "orderId": "${orderId}" }`;
      const forged = await deliver(raw, 'application/json', JSON.stringify(JSON.parse(raw)));
      expect(forged.status).toBe(401);
    });

    it('still takes a text/plain delivery, and refuses NUL text in it after the signature check', async () => {
      const orderId = await pendingOrder('raw-3');
      expect((await deliver(`{"id":"evt-raw-3","type":"payment.succeeded","orderId":"${orderId}"}`, 'text/plain')).status).toBe(200);
      const nul = await deliver(`{"id":"evt-raw-3b","type":"payment.failed","orderId":"${orderId}","reason":"a\\u0000"}`, 'text/plain');
      expect(nul.status).toBe(400);
    });
  });

  describe('ids up to their documented length', () => {
    const long = 'p'.repeat(128);

    it('writes, reads and deletes a player id of 128 characters on every path route', async () => {
      const put = await admin('PUT', `/api/v1/leaderboards/hb/scores/${long}`, { body: { score: 5 } });
      expect(put.status).toBe(202);
      await waitFor(async () => (await admin('GET', `/api/v1/leaderboards/hb/players/${long}`)).status === 200);
      expect((await admin('DELETE', `/api/v1/leaderboards/hb/players/${long}`)).status).toBe(204);
    });

    it('reads and deletes a 128-character player written through scores:batch', async () => {
      const batchId = 'b'.repeat(120) + '-batched';
      const b = await admin('POST', '/api/v1/leaderboards/hb/scores:batch', { body: { entries: [{ playerId: batchId, score: 7 }] } });
      expect(b.status).toBe(202);
      await waitFor(async () => (await admin('GET', `/api/v1/leaderboards/hb/players/${batchId}`)).status === 200);
      expect((await admin('DELETE', `/api/v1/leaderboards/hb/players/${batchId}`)).status).toBe(204);
    });

    it('answers an id far past every documented length with a problem, not a bare 414', async () => {
      const r = await admin('GET', `/api/v1/leaderboards/hb/players/${'x'.repeat(2000)}`);
      expectProblem(r, 414, 'uri_too_long');
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
