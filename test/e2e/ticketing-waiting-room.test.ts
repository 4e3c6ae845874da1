import { randomBytes } from 'node:crypto';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

/**
 * Virtual waiting room over HTTP, on both profiles: joining hands out a number in line and a token
 * bound to the user; numbers are admitted at the event's admitPerSecond; holds on an event with the
 * room enabled need an admitted token of their own user (Waiting-Room-Token header).
 */
describe.each(['embedded', 'full'] as const)('ticketing waiting room (%s profile)', (profile) => {
  let t: TestApp;
  let n = 0;
  const key = () => `wr-${Date.now()}-${++n}`;
  const createEvent = async (extra: Record<string, unknown>) =>
    http(t.url, 'POST', '/api/v1/events', {
      key: KEYS.admin,
      body: { name: 'hot', startsAt: new Date(Date.now() + 86_400_000).toISOString(), generalAdmission: { capacity: 10, price: 10 }, ...extra },
    });
  const join = (url: string, eventId: string, userId: string) =>
    http(url, 'POST', `/api/v1/events/${eventId}/queue`, { key: KEYS.client, body: { userId } });
  const status = (url: string, eventId: string, token: string) =>
    http(url, 'GET', `/api/v1/events/${eventId}/queue/${token}`, { key: KEYS.client });
  const hold = (eventId: string, userId: string, token?: string) =>
    http(t.url, 'POST', `/api/v1/events/${eventId}/holds`, {
      key: KEYS.client,
      body: { userId, quantity: 1 },
      headers: { 'idempotency-key': key(), ...(token ? { 'waiting-room-token': token } : {}) },
    });
  const waitAdmitted = async (url: string, eventId: string, token: string) => {
    for (let i = 0; i < 100; i++) {
      const s = await status(url, eventId, token);
      if (s.body.admitted) return s.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('never admitted');
  };

  beforeAll(async () => {
    t = await startTestApp({ APP_PROFILE: profile, APP_MODULES: 'ticketing', RATE_LIMIT_PER_SECOND: '0' });
  });
  afterAll(() => t?.close());

  it('queues users, admits them at the configured rate and gates holds on an admitted token', async () => {
    const ev = await createEvent({ maxPerUser: 2, waitingRoom: { enabled: true, admitPerSecond: 1 } });
    expect(ev.status).toBe(201);
    const eventId = ev.body.id as string;
    expect((await http(t.url, 'GET', `/api/v1/events/${eventId}`, { key: KEYS.client })).body.waitingRoom).toEqual({ enabled: true, admitPerSecond: 1 });

    // No token: 403, the request lacks the credential.
    const bare = await hold(eventId, 'u1');
    expect(bare.status).toBe(403);
    expect(bare.headers.get('content-type')).toContain('application/problem+json');
    expect(bare.body.code).toBe('waiting_room_token_required');

    // The first second's admissions go straight in; the next number waits its turn.
    const j1 = await join(t.url, eventId, 'u1');
    expect(j1.status).toBe(201);
    expect(j1.body).toMatchObject({ eventId, queueNumber: 1, position: 0, admitted: true, estimatedWaitSeconds: 0, admitPerSecond: 1 });
    expect(j1.body.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const j2 = await join(t.url, eventId, 'u2');
    expect(j2.body).toMatchObject({ queueNumber: 2, admitted: false, position: 1 });
    expect(j2.body.estimatedWaitSeconds).toBeGreaterThanOrEqual(1);
    expect(j2.body.token).not.toBe(j1.body.token);
    // Joining again keeps the user's place and token.
    expect((await join(t.url, eventId, 'u1')).body).toMatchObject({ token: j1.body.token, queueNumber: 1 });

    const s2 = await status(t.url, eventId, j2.body.token);
    expect(s2.status).toBe(200);
    expect(s2.body).toMatchObject({ token: j2.body.token, queueNumber: 2 });

    // Admitted token of its own user: the hold goes through.
    expect((await hold(eventId, 'u1', j1.body.token)).status).toBe(201);
    // A token is bound to its user; a forged one is unknown: 403 either way.
    const foreign = await hold(eventId, 'u2', j1.body.token);
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('waiting_room_token_invalid');
    const forged = await hold(eventId, 'u1', randomBytes(16).toString('base64url'));
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('waiting_room_token_invalid');

    // Not admitted yet (unless a slow machine already let the second number in): 429 + Retry-After.
    const early = await hold(eventId, 'u2', j2.body.token);
    if (early.status === 429) {
      expect(early.body).toMatchObject({ code: 'waiting_room_not_admitted' });
      expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(early.body.position).toBeGreaterThanOrEqual(1);
      const later = await waitAdmitted(t.url, eventId, j2.body.token);
      expect(later).toMatchObject({ admitted: true, position: 0, estimatedWaitSeconds: 0 });
      expect((await hold(eventId, 'u2', j2.body.token)).status).toBe(201);
    } else {
      expect(early.status).toBe(201);
    }
    const a = (await http(t.url, 'GET', `/api/v1/events/${eventId}/availability`, { key: KEYS.client })).body;
    expect(a).toMatchObject({ capacity: 10, held: 2, available: 8 });
  }, 30_000);

  it('answers 4xx problem+json for bad room requests and leaves events without a room ungated', async () => {
    const plain = await createEvent({});
    expect(plain.status).toBe(201);
    const disabled = await join(t.url, plain.body.id, 'u1');
    expect(disabled.status).toBe(409);
    expect(disabled.body.code).toBe('waiting_room_disabled');
    expect((await hold(plain.body.id, 'u1')).status).toBe(201);

    const off = await createEvent({ waitingRoom: { enabled: false, admitPerSecond: 5 } });
    expect(off.status).toBe(201);
    expect((await hold(off.body.id, 'u1')).status).toBe(201);

    for (const waitingRoom of [{ enabled: true, admitPerSecond: 0 }, { enabled: true }, { enabled: 'yes', admitPerSecond: 5 }, { enabled: true, admitPerSecond: 1.5 }]) {
      const bad = await createEvent({ waitingRoom });
      expect(bad.status).toBe(400);
    }

    const room = await createEvent({ waitingRoom: { enabled: true, admitPerSecond: 100 } });
    expect((await join(t.url, 'no-such-event', 'u1')).status).toBe(404);
    expect((await join(t.url, room.body.id, '')).status).toBe(400);
    expect((await http(t.url, 'POST', `/api/v1/events/${room.body.id}/queue`, { key: KEYS.client, body: {} })).status).toBe(400);
    const unknown = await status(t.url, room.body.id, randomBytes(16).toString('base64url'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('waiting_room_token_not_found');
    expect((await status(t.url, room.body.id, 'not a token!')).status).toBe(404);
    // A token of one event is unknown to another.
    const other = await createEvent({ waitingRoom: { enabled: true, admitPerSecond: 100 } });
    const tok = (await join(t.url, room.body.id, 'u1')).body.token;
    expect((await status(t.url, other.body.id, tok)).status).toBe(404);
    expect((await hold(other.body.id, 'u1', tok)).status).toBe(403);
  }, 30_000);

  it('counts admissions from salesOpenAt: early joiners wait for the opening, then get 425 until it', async () => {
    const ev = await createEvent({ salesOpenAt: new Date(Date.now() + 3_600_000).toISOString(), waitingRoom: { enabled: true, admitPerSecond: 2 } });
    const joined = [];
    for (const u of ['a', 'b', 'c', 'd']) joined.push((await join(t.url, ev.body.id, u)).body);
    // One second's worth (2) is admitted; the clock does not run before the sales open.
    expect(joined.map((j) => j.admitted)).toEqual([true, true, false, false]);
    expect(joined.map((j) => j.position)).toEqual([0, 0, 1, 2]);
    await new Promise((r) => setTimeout(r, 600));
    expect((await status(t.url, ev.body.id, joined[2].token)).body).toMatchObject({ admitted: false, position: 1 });
    const tooEarly = await hold(ev.body.id, 'a', joined[0].token);
    expect(tooEarly.status).toBe(425);
  }, 30_000);

  if (profile === 'full') {
    it('shares one line across API instances through Redis', async () => {
      const second = await startTestApp({ APP_PROFILE: 'full', APP_MODULES: 'ticketing', RATE_LIMIT_PER_SECOND: '0', NAMESPACE: t.config.NAMESPACE });
      try {
        const ev = await createEvent({ waitingRoom: { enabled: true, admitPerSecond: 1 } });
        const a = await join(t.url, ev.body.id, 'x1');
        const b = await join(second.url, ev.body.id, 'x2');
        expect([a.body.queueNumber, b.body.queueNumber]).toEqual([1, 2]);
        expect((await join(second.url, ev.body.id, 'x1')).body.token).toBe(a.body.token);
        expect((await status(second.url, ev.body.id, a.body.token)).body).toMatchObject({ queueNumber: 1, admitted: true });
      } finally {
        await second.close();
      }
    }, 30_000);
  }
});
