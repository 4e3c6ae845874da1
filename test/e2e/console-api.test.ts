import { randomBytes, randomUUID } from 'node:crypto';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

/**
 * The read endpoints and SSE streams added for the web console: roles, 4xx for bad input,
 * the views' contents, the streams' first events and change pushes, and their OpenAPI entries.
 */
describe('console read API', () => {
  let t: TestApp;
  const run = randomBytes(3).toString('hex');
  const as = (key: string) => (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(t.url, method, path, { key, body, headers });
  const [admin, service, client] = [as(KEYS.admin), as(KEYS.service), as(KEYS.client)];

  /** Reads a text/event-stream until `want` events arrived (bounded), then closes it. */
  async function readEvents(path: string, want: (events: { event: string; data: any }[]) => boolean, during?: () => Promise<void>) {
    const abort = new AbortController();
    const res = await fetch(t.url + path, { headers: { 'x-api-key': KEYS.client }, signal: abort.signal });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    const events: { event: string; data: any }[] = [];
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = setTimeout(() => abort.abort(), 20_000);
    let buf = '';
    let started = false;
    try {
      while (!want(events)) {
        if (!started && during && events.length > 0) {
          started = true;
          void during();
        }
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      /* aborted at the deadline: the assertion below says what was missing */
    } finally {
      clearTimeout(deadline);
      abort.abort();
    }
    return events;
  }

  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT_PER_SECOND: '0',
      GPU_CYCLE_INTERVAL_MS: '200',
      // no agent here: a placed task keeps its GPUs until the test ends
      GPU_ACK_TIMEOUT_MS: '60000',
      GPU_HEARTBEAT_TIMEOUT_MS: '60000',
      // ads: one partition and event-time windows, so a later event closes the earlier windows at once
      KAFKA_PARTITIONS: '1',
      ADS_OUT_OF_ORDERNESS_MS: '0',
      ADS_ALLOWED_LATENESS_MS: '0',
      ADS_CHECKPOINT_INTERVAL_MS: '0',
      ADS_IDLE_TIMEOUT_MS: '3600000', // an idle partition must not close the open window by wall clock mid-test
    });
  }, 180_000);
  let closed = false;
  afterAll(async () => {
    if (!closed) await t?.close();
  });

  it('GET /whoami names the key role; 401 without a known key', async () => {
    expect((await admin('GET', '/api/v1/whoami')).body).toEqual({ role: 'admin' });
    expect((await service('GET', '/api/v1/whoami')).body).toEqual({ role: 'service' });
    expect((await client('GET', '/api/v1/whoami')).body).toEqual({ role: 'client' });
    expect((await http(t.url, 'GET', '/api/v1/whoami')).status).toBe(401);
    expect((await http(t.url, 'GET', '/api/v1/whoami', { key: 'nope' })).status).toBe(401);
  });

  it('GPU: the grid shows the task on each GPU it holds; recent tasks; the cluster stream pushes a change', async () => {
    const node = `cv-${run}`;
    expect((await service('POST', '/api/v1/gpu/nodes', { id: node, gpuType: 'A100', gpuCount: 4, gpuMemoryGb: 80 })).status).toBe(200);
    const first = await readEvents('/api/v1/gpu/cluster/stream', (e) => ['grid', 'cluster', 'tasks'].every((n) => e.some((x) => x.event === n)));
    const grid0 = first.find((e) => e.event === 'grid')!.data;
    expect(grid0.nodes.find((n: any) => n.id === node)).toEqual({ id: node, gpuType: 'A100', status: 'ACTIVE', gpuCount: 4, freeGpuIndices: [0, 1, 2, 3], tasks: [null, null, null, null] });
    expect(first.find((e) => e.event === 'cluster')!.data).toMatchObject({ queues: { vip: { length: 0 } }, quota: { targetVipShare: 0.8 } });

    let taskId = '';
    const pushed = await readEvents(
      '/api/v1/gpu/cluster/stream',
      (e) => taskId !== '' && e.some((x) => x.event === 'grid' && x.data.nodes.some((n: any) => n.id === node && n.tasks.filter((v: string | null) => v === taskId).length === 2)),
      async () => {
        const r = await client('POST', '/api/v1/tasks', { userId: 'u1', tier: 'normal', gpuType: 'A100', gpuCount: 2, gpuMemoryGb: 40 }, { 'idempotency-key': randomUUID() });
        taskId = r.body.taskId;
      },
    );
    expect(pushed.filter((e) => e.event === 'grid').length).toBeGreaterThanOrEqual(2);

    const grid = (await client('GET', '/api/v1/gpu/grid')).body;
    expect(grid.nodes.find((n: any) => n.id === node).tasks.filter((v: string | null) => v === taskId)).toHaveLength(2);
    const recent = await client('GET', '/api/v1/gpu/tasks/recent?limit=5');
    expect(recent.body.items[0]).toMatchObject({ taskId, userId: 'u1', tier: 'normal', gpuCount: 2 });
    expect(['SCHEDULED', 'RUNNING']).toContain(recent.body.items[0].status);
    for (const bad of ['0', '101', 'x']) expect((await client('GET', `/api/v1/gpu/tasks/recent?limit=${bad}`)).status).toBe(400);
    expect((await http(t.url, 'GET', '/api/v1/gpu/grid')).status).toBe(401);
    expect((await http(t.url, 'GET', '/api/v1/gpu/cluster/stream')).status).toBe(401);
  });

  it('ticketing: events, seat states, orders (service role), waiting-room line, and the availability stream', async () => {
    const ev = (await admin('POST', '/api/v1/events', { name: `cv ${run}`, startsAt: new Date(Date.now() + 86_400_000).toISOString(), sections: [{ name: 'A', rows: 1, seatsPerRow: 4, price: 10 }] })).body;
    const listed = (await client('GET', '/api/v1/events?limit=500')).body.events;
    expect(listed.find((e: any) => e.id === ev.id)).toMatchObject({ name: `cv ${run}`, kind: 'SEATED', capacity: 4 });
    expect((await client('GET', '/api/v1/events?limit=0')).status).toBe(400);

    const seen = await readEvents(
      `/api/v1/events/${ev.id}/availability/stream`,
      (e) => e.some((x) => x.event === 'availability' && x.data.held === 2) && e.some((x) => x.event === 'seats' && x.data.seats.filter((s: any) => s.status === 'HELD').length === 2),
      async () => {
        await client('POST', `/api/v1/events/${ev.id}/holds`, { userId: 'u1', seatIds: ['A-1-1', 'A-1-2'] }, { 'idempotency-key': randomUUID() });
      },
    );
    expect(seen.find((e) => e.event === 'availability')!.data).toMatchObject({ eventId: ev.id, available: 4, held: 0 });
    expect(seen.find((e) => e.event === 'queue')!.data).toEqual({ eventId: ev.id, enabled: false, joined: 0, admitted: 0, waiting: 0, admitPerSecond: 0 });

    const seats = (await client('GET', `/api/v1/events/${ev.id}/seats`)).body.seats;
    expect(seats).toEqual([
      { seatId: 'A-1-1', section: 'A', status: 'HELD' },
      { seatId: 'A-1-2', section: 'A', status: 'HELD' },
      { seatId: 'A-1-3', section: 'A', status: 'AVAILABLE' },
      { seatId: 'A-1-4', section: 'A', status: 'AVAILABLE' },
    ]);
    expect((await client('GET', `/api/v1/events/${ev.id}/orders`)).status).toBe(403);
    expect((await service('GET', `/api/v1/events/${ev.id}/orders`)).body).toEqual({ eventId: ev.id, byStatus: { PENDING: 0, CONFIRMED: 0, FAILED: 0 }, recent: [] });
    for (const path of ['seats', 'orders', 'waiting-room', 'availability/stream']) {
      const r = await service('GET', `/api/v1/events/nope-${run}/${path}`);
      expect([path, r.status, r.headers.get('content-type')]).toEqual([path, 404, 'application/problem+json; charset=utf-8']);
    }

    const room = (
      await admin('POST', '/api/v1/events', {
        name: `cv room ${run}`,
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        salesOpenAt: new Date(Date.now() + 3_600_000).toISOString(),
        generalAdmission: { capacity: 10, price: 5 },
        waitingRoom: { enabled: true, admitPerSecond: 1 },
      })
    ).body;
    for (const u of ['u1', 'u2', 'u3']) expect((await client('POST', `/api/v1/events/${room.id}/queue`, { userId: u })).status).toBe(201);
    // sales open in an hour: the room admits one a second (a banked second's worth) from then on
    expect((await client('GET', `/api/v1/events/${room.id}/waiting-room`)).body).toEqual({ eventId: room.id, enabled: true, joined: 3, admitted: 1, waiting: 2, admitPerSecond: 1 });
  });

  it('ads: campaigns list and per-ad totals with the newest closed window', async () => {
    const id = `cv-${run}`;
    const ads = ['a', 'b'].map((x) => ({ id: `${id}-${x}`, creativeUrl: `https://cdn.example.com/${x}.png`, weight: 1 }));
    expect((await admin('POST', '/api/v1/ads/campaigns', { id, name: 'cv', advertiserId: 'adv', ads })).status).toBe(201);
    expect((await client('GET', '/api/v1/ads/campaigns?limit=500')).body.campaigns.find((c: any) => c.id === id)).toEqual({ id, name: 'cv', advertiserId: 'adv', active: true, ads: 2 });
    const now = Date.now();
    const m0 = now - (now % 60_000) - 10 * 60_000;
    const ev = (adId: string, ts: number) => ({ type: 'impression', impressionId: randomUUID(), adId, campaignId: id, ts });
    // two windows of counts, then a later event moves the event-time watermark past both
    const events = [ev(ads[0].id, m0 + 1000), ev(ads[0].id, m0 + 2000), ev(ads[1].id, m0 + 3000), ev(ads[0].id, m0 + 61_000), ev(ads[0].id, m0 + 5 * 60_000)];
    expect((await service('POST', '/api/v1/track/events', { events })).status).toBe(202);
    let body: any;
    for (let i = 0; i < 300; i++) {
      body = (await client('GET', `/api/v1/stats/campaigns/${id}/ads?from=${m0}`)).body;
      if (body.ads?.length === 2 && body.ads[0].impressions === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body.ads).toEqual([
      { adId: ads[0].id, impressions: 3, clicks: 0, ctr: 0 },
      { adId: ads[1].id, impressions: 1, clicks: 0, ctr: 0 },
    ]);
    expect(Date.parse(body.newestWindowEnd)).toBeGreaterThanOrEqual(m0 + 120_000);
    expect((await client('GET', `/api/v1/stats/campaigns/${id}/ads?from=yesterday`)).status).toBe(400);
    expect((await client('GET', `/api/v1/stats/campaigns/${id}/ads?from=${now}&to=${now - 1}`)).status).toBe(400);
  });

  it('documents the streams as text/event-stream in the OpenAPI document', async () => {
    const doc = (await http(t.url, 'GET', '/docs-json')).body;
    for (const p of ['/api/v1/gpu/cluster/stream', '/api/v1/events/{eventId}/availability/stream']) {
      expect(Object.keys(doc.paths[p].get.responses['200'].content)).toContain('text/event-stream');
    }
    for (const p of ['/api/v1/whoami', '/api/v1/gpu/grid', '/api/v1/gpu/tasks/recent', '/api/v1/events/{eventId}/seats', '/api/v1/events/{eventId}/orders', '/api/v1/events/{eventId}/waiting-room', '/api/v1/ads/campaigns', '/api/v1/stats/campaigns/{campaignId}/ads']) {
      expect(doc.paths[p]?.get).toBeDefined();
    }
  });

  it('shutdown ends open streams, so the server closes without waiting for its timeout', async () => {
    const opened = await Promise.all(
      ['/api/v1/gpu/cluster/stream', `/api/v1/events/${(await client('GET', '/api/v1/events?limit=1')).body.events[0].id}/availability/stream`].map(async (path) => {
        const res = await fetch(t.url + path, { headers: { 'x-api-key': KEYS.client } });
        const reader = res.body!.getReader();
        await reader.read(); // connected
        return reader;
      }),
    );
    closed = true;
    await t.close();
    for (const reader of opened) {
      let done = false;
      while (!done) done = (await reader.read()).done;
      expect(done).toBe(true);
    }
  });
});
