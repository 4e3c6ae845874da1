import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SqlCheckpointStore } from '../../src/modules/ad-analytics/adapters/sql-checkpoint-store';
import { CheckpointFenced } from '../../src/modules/ad-analytics/ports/stream-state.port';
import { dashboard, streamCounters, streamKey } from '../support/ad-analytics';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

/**
 * The ad-analytics HTTP contract and a hand-computed stream, shared by the embedded and full e2e
 * files. One partition, so the whole stream is one ordered sequence and lateness is predictable;
 * real 1-minute windows over synthetic event times (the watermark follows event time, so nothing
 * waits for the clock); lateness 1 min, TTL 3 min; checkpoint after every batch.
 */
export const STREAM_ENV = {
  KAFKA_PARTITIONS: '1',
  RATE_LIMIT_PER_SECOND: '0',
  APP_MODULES: 'ad-analytics',
  ADS_WINDOW_MS: '60000',
  ADS_OUT_OF_ORDERNESS_MS: '0',
  ADS_ALLOWED_LATENESS_MS: '60000',
  ADS_JOIN_TTL_MS: '180000',
  ADS_IDLE_TIMEOUT_MS: '3600000',
  ADS_CHECKPOINT_INTERVAL_MS: '0',
};

export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BASE = Date.UTC(2026, 0, 5, 10, 0, 0); // minute 0 of the scenario
const at = (m: number, s: number) => BASE + m * 60_000 + s * 1000;
const iso = (m: number) => new Date(BASE + m * 60_000).toISOString();

export function adAnalyticsSuite(env: Record<string, string>): void {
  let t: TestApp;
  const run = randomBytes(4).toString('hex');
  const id = (s: string) => `${s}-${run}`;
  const [C1, C2, CZ] = [id('c1'), id('c2'), id('cz')];
  const [A1, A2, B1, Z] = [id('a1'), id('a2'), id('b1'), id('z')];

  beforeAll(async () => {
    t = await startTestApp({ ...STREAM_ENV, ...env });
  }, 120000);
  afterAll(() => t?.close());

  const admin = (method: string, path: string, body?: unknown) => http(t.url, method, path, { key: KEYS.admin, body });
  const service = (method: string, path: string, body?: unknown) => http(t.url, method, path, { key: KEYS.service, body });
  const client = (path: string) => http(t.url, 'GET', path, { key: KEYS.client });
  const ad = (i: string) => ({ id: i, creativeUrl: `https://cdn.example.com/${i}.png`, weight: 1 });

  it('manages campaigns: create, read, pause/resume, with 4xx for bad input, auth and conflicts', async () => {
    const c1 = await admin('POST', '/api/v1/ads/campaigns', { id: C1, name: 'one', advertiserId: 'adv-1', ads: [ad(A1), { ...ad(A2), weight: 3 }] });
    expect(c1.status).toBe(201);
    expect(c1.body).toMatchObject({ id: C1, name: 'one', advertiserId: 'adv-1', active: true, ads: [ad(A1), { ...ad(A2), weight: 3 }] });
    expect((await admin('POST', '/api/v1/ads/campaigns', { id: C2, name: 'two', advertiserId: 'adv-2', ads: [ad(B1)] })).status).toBe(201);
    const generated = await admin('POST', '/api/v1/ads/campaigns', { name: 'gen', advertiserId: 'adv-3', ads: [ad(id('g1'))], active: false });
    expect(generated.status).toBe(201);
    expect(generated.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.body.active).toBe(false);

    expect((await admin('POST', '/api/v1/ads/campaigns', { id: C1, name: 'x', advertiserId: 'a', ads: [ad(id('x1'))] })).body.code).toBe('campaign_exists');
    const adTaken = await admin('POST', '/api/v1/ads/campaigns', { id: id('c3'), name: 'x', advertiserId: 'a', ads: [ad(id('x2')), ad(A1)] });
    expect([adTaken.status, adTaken.body.code]).toEqual([409, 'ad_exists']);
    expect((await service('GET', `/api/v1/ads/campaigns/${id('c3')}`)).status).toBe(404); // nothing of it was stored
    const dup = await admin('POST', '/api/v1/ads/campaigns', { id: id('c4'), name: 'x', advertiserId: 'a', ads: [ad(id('d')), ad(id('d'))] });
    expect([dup.status, dup.body.code]).toEqual([400, 'duplicate_ad_id']);
    for (const bad of [
      { name: 'x', advertiserId: 'a', ads: [] },
      { name: 'x', advertiserId: 'a', ads: [{ ...ad('q'), weight: -1 }] },
      { name: 'x', advertiserId: 'a', ads: [{ ...ad('q'), creativeUrl: 'not a url' }] },
      { name: '', advertiserId: 'a', ads: [ad('q')] },
      { id: 'bad id!', name: 'x', advertiserId: 'a', ads: [ad('q')] },
      { name: 'x', advertiserId: 'a', ads: [ad('q')], extra: 1 },
    ]) {
      const r = await admin('POST', '/api/v1/ads/campaigns', bad);
      expect([r.status, r.headers.get('content-type')]).toEqual([400, 'application/problem+json; charset=utf-8']);
    }
    expect((await http(t.url, 'POST', '/api/v1/ads/campaigns', { body: { name: 'x', advertiserId: 'a', ads: [ad('q')] } })).status).toBe(401);
    expect((await http(t.url, 'POST', '/api/v1/ads/campaigns', { key: KEYS.service, body: { name: 'x', advertiserId: 'a', ads: [ad('q')] } })).status).toBe(403);

    expect((await service('GET', `/api/v1/ads/campaigns/${C1}`)).body).toMatchObject({ id: C1, active: true });
    expect((await client(`/api/v1/ads/campaigns/${C1}`)).status).toBe(403);
    expect((await service('GET', '/api/v1/ads/campaigns/nope')).status).toBe(404);
    expect((await admin('PATCH', `/api/v1/ads/campaigns/${C1}`, { active: 'no' })).status).toBe(400);
    expect((await admin('PATCH', '/api/v1/ads/campaigns/nope', { active: false })).status).toBe(404);
  });

  it('serves active ads by weight with unique, time-ordered impression ids; pausing stops serving', async () => {
    const serve = () => service('GET', '/api/v1/ads/serve?placement=home-top&userId=u1');
    const seen = new Map<string, number>();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await serve();
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['adId', 'campaignId', 'creativeUrl', 'impressionId']);
      seen.set(r.body.adId, (seen.get(r.body.adId) ?? 0) + 1);
      ids.push(r.body.impressionId);
    }
    expect(new Set(ids).size).toBe(200);
    expect([...ids].sort()).toEqual(ids); // UUIDv7: lexical order is creation order
    expect(Math.abs(parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16) - Date.now())).toBeLessThan(60_000);
    expect([...seen.keys()].sort()).toEqual([A1, A2, B1].sort()); // never the inactive campaign's ad
    expect(seen.get(A2)!).toBeGreaterThan(seen.get(A1)!); // weight 3 vs 1 (p of failing ~1e-9)

    expect((await admin('PATCH', `/api/v1/ads/campaigns/${C1}`, { active: false })).body).toMatchObject({ id: C1, active: false });
    for (let i = 0; i < 20; i++) expect((await serve()).body.adId).toBe(B1);
    expect((await admin('PATCH', `/api/v1/ads/campaigns/${C2}`, { active: false })).status).toBe(200);
    const none = await serve();
    expect([none.status, none.body.code]).toEqual([404, 'no_eligible_ad']);
    expect((await admin('PATCH', `/api/v1/ads/campaigns/${C1}`, { active: true })).body.active).toBe(true);
    expect((await admin('PATCH', `/api/v1/ads/campaigns/${C2}`, { active: true })).body.active).toBe(true);
    expect((await serve()).status).toBe(200);

    expect((await service('GET', '/api/v1/ads/serve?userId=u1')).status).toBe(400);
    expect((await service('GET', '/api/v1/ads/serve?placement=p&userId=bad%20id')).status).toBe(400);
    expect((await client('/api/v1/ads/serve?placement=p&userId=u1')).status).toBe(403);
  });

  it('rejects malformed track batches naming the event index, and unauthorised callers', async () => {
    const ok = { type: 'impression', impressionId: id('v0'), adId: A1, campaignId: C1, ts: at(0, 1) };
    const cases: [unknown, number][] = [
      [{ events: [ok, ok, { ...ok, type: 'view' }] }, 2],
      [{ events: [ok, { ...ok, ts: 'soon' }] }, 1],
      [{ events: [{ ...ok, ts: 1700000000 }] }, 0], // seconds, not milliseconds
      [{ events: [ok, ok, ok, { ...ok, impressionId: '' }] }, 3],
      [{ events: [ok, { ...ok, extra: true }] }, 1],
      [[ok, null], 1],
      [{ events: [] }, -1],
      [{ events: Array.from({ length: 1001 }, () => ok) }, -1],
      [{ nope: 1 }, -1],
    ];
    for (const [body, index] of cases) {
      const r = await service('POST', '/api/v1/track/events', body);
      expect([r.status, r.body.code, r.body.index]).toEqual([400, 'invalid_event', index]);
    }
    expect((await http(t.url, 'POST', '/api/v1/track/events', { key: KEYS.client, body: { events: [ok] } })).status).toBe(403);
    expect((await http(t.url, 'POST', '/api/v1/track/events', { key: KEYS.service, raw: '{"events": [' })).status).toBe(400);
  });

  it('counts a stream with out-of-order events, duplicates, late events, unmatched clicks and clicks before impressions exactly', async () => {
    const imp = (i: string, adId: string, campaignId: string, ts: number) => ({ type: 'impression', impressionId: id(i), adId, campaignId, ts });
    const click = (i: string, adId: string, campaignId: string, ts: number) => ({ type: 'click', impressionId: id(i), adId, campaignId, ts });
    // One partition, in this order. Window m closes when the watermark (max ts, no out-of-orderness)
    // reaches its end + 1 min lateness; join TTL 3 min.
    const part1 = [
      imp('i1', A1, C1, at(0, 10)), //   m0 A1 imp
      imp('i2', A1, C1, at(0, 20)), //   m0 A1 imp
      click('i1', A1, C1, at(0, 30)), // joins i1: m0 A1 click
      imp('i1', A1, C1, at(0, 10)), //   duplicate impression: ignored
      click('i1', A1, C1, at(0, 35)), // duplicate click: ignored
      click('i3', A2, C1, at(0, 40)), // click before its impression: pending
    ];
    const part2 = [
      imp('i3', A2, C1, at(0, 15)), //   out of order; joins the pending click: m0 A2 imp + m0 A2 click
      click('u1', A1, C1, at(0, 50)), // its impression never comes: unmatched once the TTL passes
      imp('i4', B1, C2, at(1, 5)), //    m1 B1 imp (watermark 1:05)
      imp('i5', A1, C1, at(0, 55)), //   out of order but m0 is open until 2:00: m0 A1 imp
      imp('i6', B1, C2, at(2, 30)), //   m2 B1 imp; watermark 2:30 closes m0
      imp('i7', A1, C1, at(0, 45)), //   m0 is closed: late (still joinable)
      click('i7', A1, C1, at(2, 40)), // joins i7, counts in the click's minute: m2 A1 click
      click('i4', B1, C2, at(1, 10)), // joins i4: m1 B1 click (m1 open until 3:00)
      click('i2', A1, C1, at(0, 58)), // joins i2 but m0 is closed: late
      imp('i2', A1, C1, at(0, 20)), //   duplicate again, after its window closed: ignored, not late
    ];
    // A later event moves the watermark to 10:00: m1..m8 close, u1 (0:50 + 3 min) expires unmatched.
    const closer = [imp('z1', Z, CZ, at(10, 0))];
    const stream = await openStream();
    // part2 twice: a client retry after a lost 202 changes nothing (duplicates within the TTL)
    for (const events of [part1, part2, part2, closer]) {
      const r = await service('POST', '/api/v1/track/events', { events });
      expect([r.status, r.body]).toEqual([202, { accepted: events.length }]);
    }

    const range = `from=${BASE}&to=${at(20, 0)}`;
    const a1 = await until(
      () => client(`/api/v1/stats/ads/${A1}?${range}`),
      (r) => r.body?.buckets?.length === 2,
    );
    expect(a1.body).toEqual({
      adId: A1,
      from: iso(0),
      to: iso(20),
      buckets: [
        { minute: iso(0), impressions: 3, clicks: 1, ctr: 1 / 3 },
        { minute: iso(2), impressions: 0, clicks: 1, ctr: null },
      ],
      totals: { impressions: 3, clicks: 2, ctr: 2 / 3 },
    });
    expect((await client(`/api/v1/stats/ads/${A2}?${range}`)).body.buckets).toEqual([{ minute: iso(0), impressions: 1, clicks: 1, ctr: 1 }]);
    expect((await client(`/api/v1/stats/ads/${B1}?${range}`)).body.buckets).toEqual([
      { minute: iso(1), impressions: 1, clicks: 1, ctr: 1 },
      { minute: iso(2), impressions: 1, clicks: 0, ctr: 0 },
    ]);
    expect((await client(`/api/v1/stats/campaigns/${C1}?${range}`)).body).toMatchObject({
      campaignId: C1,
      buckets: [
        { minute: iso(0), impressions: 4, clicks: 2, ctr: 0.5 },
        { minute: iso(2), impressions: 0, clicks: 1, ctr: null },
      ],
      totals: { impressions: 4, clicks: 3, ctr: 0.75 },
    });
    expect((await client(`/api/v1/stats/campaigns/${C2}?${range}`)).body.totals).toEqual({ impressions: 2, clicks: 1, ctr: 0.5 });
    // the closer's own window is still open
    expect((await client(`/api/v1/stats/ads/${Z}?${range}`)).body.buckets).toEqual([]);

    // late and unmatched: persisted with the checkpoints and exported as metrics
    const counters = await until(() => streamCounters(t.app.get(DataSource), streamKey(t.app)), (c) => c.unmatched === 1);
    expect(counters).toEqual({ events: 2 * part2.length + part1.length + closer.length, late: 2, unmatched: 1, malformed: 0 });
    const metrics = await http(t.url, 'GET', '/metrics');
    expect(metrics.body).toMatch(/^ads_stream_late_total 2$/m);
    expect(metrics.body).toMatch(/^ads_stream_unmatched_clicks_total 1$/m);

    // the Redis dashboard holds the same closed windows
    const dash = await until(() => dashboard(t.app, 'ad', A1), (d) => d.length === 2);
    expect(dash).toEqual([
      { windowStart: BASE, impressions: 3, clicks: 1 },
      { windowStart: at(2, 0), impressions: 0, clicks: 1 },
    ]);
    expect(await dashboard(t.app, 'campaign', C1)).toEqual([
      { windowStart: BASE, impressions: 4, clicks: 2 },
      { windowStart: at(2, 0), impressions: 0, clicks: 1 },
    ]);

    // server-sent events pushed the closed minutes
    const pushed = await until(async () => stream.events, (e) => e.some((u) => u.minute === iso(2)));
    stream.close();
    const m1 = pushed.find((u) => u.minute === iso(1))!;
    expect(m1.ads).toEqual([{ adId: B1, campaignId: C2, impressions: 1, clicks: 1, ctr: 1 }]);
    const m0 = pushed.filter((u) => u.minute === iso(0)).flatMap((u) => u.ads);
    expect(m0).toEqual(expect.arrayContaining([{ adId: A1, campaignId: C1, impressions: 3, clicks: 1, ctr: 1 / 3 }]));
  });

  it('validates stats ranges and protects the stats routes', async () => {
    for (const q of ['from=yesterday', 'to=2026-13-99T00:00:00Z', `from=${BASE}&to=${BASE}`, `from=${BASE}&to=${BASE + 8 * 86_400_000}`]) {
      const r = await client(`/api/v1/stats/ads/${A1}?${q}`);
      expect([r.status, r.headers.get('content-type')]).toEqual([400, 'application/problem+json; charset=utf-8']);
    }
    expect((await client(`/api/v1/stats/campaigns/${C1}?from=${iso(0)}&to=${iso(1)}`)).body.buckets).toEqual([
      { minute: iso(0), impressions: 4, clicks: 2, ctr: 0.5 },
    ]);
    const recent = await client(`/api/v1/stats/ads/${A1}`); // default: the last hour
    expect([recent.status, recent.body.buckets]).toEqual([200, []]);
    expect((await http(t.url, 'GET', `/api/v1/stats/ads/${A1}`)).status).toBe(401);
    expect((await http(t.url, 'GET', '/api/v1/stats/stream')).status).toBe(401);
  });

  it('fences checkpoints: a commit from a stale seq (a member that lost the partition) writes nothing', async () => {
    const db = t.app.get(DataSource);
    const store = new SqlCheckpointStore(db);
    const key = { groupId: id('fence-group'), topic: id('fence-topic'), partition: 0 };
    const row = (adId: string, impressions: number) => ({ windowStart: BASE, windowEnd: BASE + 60_000, adId, campaignId: 'c', impressions, clicks: 0 });
    const commit = (expectedSeq: number, nextOffset: bigint, adId: string) =>
      store.commit(key, {
        expectedSeq, nextOffset, snapshot: `{"at":${nextOffset}}`, windows: [row(adId, 5)], outbox: [row(adId, 5)],
        deltas: { events: 10, late: 1, unmatched: 0, malformed: 0 },
      });
    expect(await commit(0, 10n, 'first')).toBe(1);
    expect(await commit(1, 20n, 'second')).toBe(2);
    // the zombie resumes from seq 1 and tries to commit its own view of offsets 10..20
    await expect(commit(1, 20n, 'zombie')).rejects.toBeInstanceOf(CheckpointFenced);
    await expect(commit(0, 10n, 'zombie')).rejects.toBeInstanceOf(CheckpointFenced);
    const cp = await store.load(key);
    expect([cp?.seq, cp?.nextOffset, cp?.snapshot]).toEqual([2, 20n, '{"at":20}']);
    const rows = await t.app.get(DataSource).query('SELECT ad_id FROM ad_minute_stats WHERE topic = $1 ORDER BY ad_id', [key.topic]);
    expect(rows.map((r: { ad_id: string }) => r.ad_id)).toEqual(['first', 'second']);
    expect(await streamCounters(db, key)).toEqual({ events: 20, late: 2, unmatched: 0, malformed: 0 });
  });

  it('stores incremental checkpoints as changes after the snapshot, dropped by the next full one; a fenced one writes nothing', async () => {
    const store = new SqlCheckpointStore(t.app.get(DataSource));
    const key = { groupId: id('inc-group'), topic: id('inc-topic'), partition: 0 };
    const deltas = { events: 1, late: 0, unmatched: 0, malformed: 0 };
    const commit = (expectedSeq: number, snapshot: string, incremental: boolean, base?: string) =>
      store.commit(key, { expectedSeq, nextOffset: BigInt(expectedSeq + 1), snapshot, incremental, base, windows: [], outbox: [], deltas });
    await expect(commit(0, 'c0', true)).rejects.toThrow(/needs a snapshot/); // no base to apply changes to
    expect(await commit(0, 'c1', true, 'base0')).toBe(1);
    expect(await commit(1, 'c2', true)).toBe(2);
    await expect(commit(1, 'zombie', true)).rejects.toBeInstanceOf(CheckpointFenced);
    let cp = await store.load(key);
    expect([cp?.seq, cp?.snapshot, cp?.changes]).toEqual([2, 'base0', ['c1', 'c2']]);
    expect(await commit(2, 'full3', false)).toBe(3);
    expect(await commit(3, 'c4', true)).toBe(4);
    cp = await store.load(key);
    expect([cp?.seq, cp?.nextOffset, cp?.snapshot, cp?.changes]).toEqual([4, 4n, 'full3', ['c4']]);
  });

  it('recovers from a fenced checkpoint (another member committed the partition) by resuming from PostgreSQL, counting once', async () => {
    const db = t.app.get(DataSource);
    const stream = streamKey(t.app);
    const F = id('f1');
    const FC = id('fc');
    const imps = (from: number, n: number, minute: number) =>
      Array.from({ length: n }, (_, k) => ({ type: 'impression', impressionId: id(`f${from + k}`), adId: F, campaignId: FC, ts: at(minute, k) }));
    const counted = () => streamCounters(db, stream).then((c) => c.events);
    const before = await counted();
    const send = async (events: unknown[]) => expect((await service('POST', '/api/v1/track/events', { events })).status).toBe(202);
    await send(imps(0, 5, 30));
    await until(counted, (n) => n === before + 5);
    // Another member "commits" the partition: same offset and snapshot, next seq. Our next checkpoint is fenced.
    await db.query('UPDATE ad_stream_checkpoints SET seq = seq + 1 WHERE group_id = $1 AND topic = $2', [stream.groupId, stream.topic]);
    await send(imps(5, 4, 30)); // processed, its checkpoint is fenced: task dropped, batch redelivered and redone from the checkpoint
    await send(imps(9, 3, 31));
    await send([{ type: 'impression', impressionId: id('f-closer'), adId: id('f-closer'), campaignId: FC, ts: at(40, 0) }]);
    const stats = await until(
      () => client(`/api/v1/stats/ads/${F}?from=${at(30, 0)}&to=${at(40, 0)}`),
      (r) => r.body?.buckets?.length === 2,
    );
    expect(stats.body.buckets.map((b: { impressions: number }) => b.impressions)).toEqual([9, 3]);
    expect(await counted()).toBe(before + 13);
  });

  /** Reads /stats/stream in the background, collecting `minute` events. */
  async function openStream(): Promise<{ events: { minute: string; ads: unknown[] }[]; close(): void }> {
    const ac = new AbortController();
    const res = await fetch(`${t.url}/api/v1/stats/stream`, { headers: { 'x-api-key': KEYS.client }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const out = { events: [] as { minute: string; ads: { adId: string }[] }[], close: () => ac.abort() };
    void (async () => {
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = frame.split('\n').find((l) => l.startsWith('data: '));
            if (frame.startsWith('event: minute') && data) out.events.push(JSON.parse(data.slice(6)));
          }
        }
      } catch {
        /* aborted */
      }
    })();
    return out;
  }
}
