import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { http, KEYS } from '../support/app';
import { AppProcess } from '../support/processes';
import { tempDataDir } from '../support/temp-dir';

/**
 * Issue 9 item 5: the embedded profile (what `npm start` runs) on a real data directory must come
 * back from a restart with nothing acknowledged lost, in every module. One app process (src/main.ts)
 * writes through the API; it is stopped cleanly (SIGTERM) and later killed (SIGKILL) right after
 * acknowledged writes; each time a new process on the same DATA_DIR must read everything back.
 * Before the fix, leaderboard scores and ad-analytics events tracked after a restart were lost.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DAY = Date.UTC(2042 + Math.floor(Math.random() * 40), Math.floor(Math.random() * 12), 1 + Math.floor(Math.random() * 28));
const MIN = 60_000;

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await probe();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(200);
    v = await probe();
  }
  return v;
}

describe('embedded profile: every module survives a restart on a real DATA_DIR (clean stop and SIGKILL)', () => {
  const data = tempDataDir();
  const tag = `r${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    APP_PROFILE: 'embedded',
    HOST: '127.0.0.1',
    NAMESPACE: tag,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: data.path,
    KAFKA_PARTITIONS: '3',
    API_KEYS: `admin:${KEYS.admin},service:${KEYS.service},client:${KEYS.client}`,
    RATE_LIMIT_PER_SECOND: '0',
    ADS_OUT_OF_ORDERNESS_MS: '1000',
    ADS_ALLOWED_LATENESS_MS: '1000',
    ADS_IDLE_TIMEOUT_MS: '300',
    ADS_CHECKPOINT_INTERVAL_MS: '0',
    ADS_REPORT_CRON: 'off',
    GPU_CYCLE_INTERVAL_MS: '200',
    GPU_AGENT_HEARTBEAT_MS: '500',
  };
  let app: AppProcess | undefined;
  const as = (key: string) => (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(app!.url, method, path, { key, body, headers });
  const admin = as(KEYS.admin);
  const service = as(KEYS.service);
  const client = as(KEYS.client);
  let n = 0;
  const idem = () => `${tag}-${++n}`;

  const board = `${tag}-board`;
  const adId = `${tag}-ad`;
  const campaignId = `${tag}-c`;
  let eventId = '';
  let heldId = '';
  let orderId = '';
  let expiringHold = '';
  const taskIds: string[] = [];

  async function restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const exited = await app!.kill(signal);
    if (signal === 'SIGKILL') expect(exited).toBe('SIGKILL');
    app = await new AppProcess(env).start(170_000);
  }

  /** `count` impressions of the ad in the minute starting `minute` minutes into DAY, plus one far later that closes it. */
  async function track(minute: number, count: number): Promise<void> {
    const at = DAY + minute * MIN;
    const events = Array.from({ length: count }, (_, i) => ({ type: 'impression', impressionId: `${tag}-${minute}-${i}`, adId, campaignId, ts: at + i * 100 }));
    for (let i = 0; i < events.length; i += 50) {
      const r = await service('POST', '/api/v1/track/events', { events: events.slice(i, i + 50) });
      expect(r.status).toBe(202);
    }
  }
  const impressions = async () => {
    const r = await client('GET', `/api/v1/stats/ads/${adId}?from=${DAY}&to=${DAY + 24 * 60 * MIN}`);
    return (r.body?.buckets ?? []).map((b: { minute: string; impressions: number }) => [b.minute, b.impressions]);
  };
  const top = async () => (await client('GET', `/api/v1/leaderboards/${board}/top?limit=10`)).body;
  const availability = async () => (await client('GET', `/api/v1/events/${eventId}/availability`)).body;

  beforeAll(async () => {
    app = await new AppProcess(env).start(170_000);
  }, 180_000);
  afterAll(async () => {
    await app?.kill('SIGKILL');
    data.remove();
  });

  it('writes through every module', async () => {
    // leaderboard
    expect((await admin('POST', '/api/v1/leaderboards', { id: board })).status).toBe(201);
    for (const [p, s] of [['alice', 30], ['bob', 20], ['carol', 10]] as const) {
      expect((await service('PUT', `/api/v1/leaderboards/${board}/scores/${p}`, { score: s })).status).toBe(202);
    }
    await until('3 ranked players', top, (b) => b.total === 3);
    // ticketing: a confirmed order, a live hold, and a hold that expires while the app is down
    const ev = await admin('POST', '/api/v1/events', {
      name: 'Restart',
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      generalAdmission: { capacity: 10, price: 10 },
      holdTtlSeconds: 600,
    });
    expect(ev.status).toBe(201);
    eventId = ev.body.id;
    const toBuy = await client('POST', `/api/v1/events/${eventId}/holds`, { userId: 'buyer', quantity: 3 }, { 'idempotency-key': idem() });
    expect(toBuy.status).toBe(201);
    const co = await client('POST', `/api/v1/holds/${toBuy.body.holdId}/checkout`, { paymentMethod: 'card' }, { 'idempotency-key': idem() });
    expect([200, 201, 202]).toContain(co.status);
    orderId = co.body.orderId;
    await until('order confirmed', async () => (await client('GET', `/api/v1/orders/${orderId}`)).body, (o) => o.status === 'CONFIRMED');
    const held = await client('POST', `/api/v1/events/${eventId}/holds`, { userId: 'holder', quantity: 2 }, { 'idempotency-key': idem() });
    expect(held.status).toBe(201);
    heldId = held.body.holdId;
    const short = await admin('POST', '/api/v1/events', {
      name: 'Short holds',
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      generalAdmission: { capacity: 4, price: 10 },
      holdTtlSeconds: 2,
    });
    const sh = await client('POST', `/api/v1/events/${short.body.id}/holds`, { userId: 'x', quantity: 4 }, { 'idempotency-key': idem() });
    expect(sh.status).toBe(201);
    expiringHold = short.body.id;
    // ad-analytics
    const c = await admin('POST', '/api/v1/ads/campaigns', { id: campaignId, name: 'restart', advertiserId: 'adv', ads: [{ id: adId, creativeUrl: 'https://cdn.example.com/a.png', weight: 1 }] });
    expect(c.status).toBe(201);
    await track(0, 100);
    await until('100 impressions counted', impressions, (b) => b.length === 1 && b[0][1] >= 100);
    await sleep(1000);
    expect(await impressions()).toEqual([[new Date(DAY).toISOString(), 100]]);
    // gpu-scheduler: a simulated node, a long task running on it and one waiting
    expect((await service('POST', '/api/v1/gpu/nodes', { id: `${tag}-n1`, gpuType: 'A100', gpuCount: 2, gpuMemoryGb: 80, simulated: true })).status).toBe(200);
    for (const gpuCount of [2, 1]) {
      const r = await client('POST', '/api/v1/tasks', { userId: 'u1', tier: 'normal', gpuType: 'A100', gpuCount, gpuMemoryGb: 16, estimatedRuntimeSec: 36_000 }, { 'idempotency-key': idem() });
      expect(r.status).toBe(202);
      taskIds.push(r.body.taskId);
    }
    await until('first task running', async () => (await client('GET', `/api/v1/tasks/${taskIds[0]}`)).body, (t) => t.status === 'RUNNING');
    expect(existsSync(join(data.path, 'inproc', 'bus.log'))).toBe(true);
  }, 400_000);

  it('after a clean stop, every module reads back what it acknowledged', async () => {
    await restart('SIGTERM');
    await sleep(2500); // the 2 s holds of the short event are due while (or just after) the app restarts
    // leaderboard: the scores, not only the board's config
    const b = await until('ranks back', top, (x) => x.total === 3);
    expect(b.entries.map((e: { rank: number; playerId: string; score: number }) => [e.rank, e.playerId, e.score])).toEqual([
      [1, 'alice', 30],
      [2, 'bob', 20],
      [3, 'carol', 10],
    ]);
    // ticketing
    expect(await availability()).toMatchObject({ available: 5, held: 2, sold: 3 });
    expect((await client('GET', `/api/v1/orders/${orderId}`)).body).toMatchObject({ status: 'CONFIRMED' });
    await until('the expired hold released by its delayed job', async () => (await client('GET', `/api/v1/events/${expiringHold}/availability`)).body, (a) => a.available === 4 && a.held === 0);
    // ad-analytics: events tracked before and after the restart, each counted once
    expect(await impressions()).toEqual([[new Date(DAY).toISOString(), 100]]);
    await track(60, 100);
    // Each partition closes its share of a window on its own: wait for the sum, then for a double count.
    await until('the events tracked after the restart counted', impressions, (x) => x.length === 2 && x[1][1] >= 100);
    await sleep(1000);
    expect(await impressions()).toEqual([
      [new Date(DAY).toISOString(), 100],
      [new Date(DAY + 60 * MIN).toISOString(), 100],
    ]);
    // gpu-scheduler
    expect((await service('GET', `/api/v1/gpu/nodes/${tag}-n1`)).status).toBe(200);
    for (const id of taskIds) expect((await client('GET', `/api/v1/tasks/${id}`)).status).toBe(200);
    // The stopping app's simulated agent terminates what runs on it (by design: the node went away), so
    // the running task is FAILED or, if the stop raced its report, still RUNNING; it is never lost.
    const first = (await client('GET', `/api/v1/tasks/${taskIds[0]}`)).body;
    expect(first).toMatchObject({ taskId: taskIds[0], userId: 'u1', gpuCount: 2, attempt: 1 });
    expect(first.status).toMatch(/^(RUNNING|FAILED)$/);
  }, 400_000);

  it('after a SIGKILL right behind acknowledged writes, nothing acknowledged is lost or counted twice', async () => {
    // The checkout of the live hold, the score updates and the events are all acknowledged, then the process dies.
    expect((await service('PUT', `/api/v1/leaderboards/${board}/scores/dave`, { score: 40 })).status).toBe(202);
    expect((await service('PUT', `/api/v1/leaderboards/${board}/scores/carol`, { score: 25 })).status).toBe(202);
    await track(120, 100);
    await restart('SIGKILL');
    const b = await until('the scores acknowledged before the kill applied', top, (x) => x.total === 4 && x.entries[0].playerId === 'dave');
    expect(b.entries.map((e: { rank: number; playerId: string; score: number }) => [e.rank, e.playerId, e.score])).toEqual([
      [1, 'dave', 40],
      [2, 'alice', 30],
      [3, 'carol', 25],
      [4, 'bob', 20],
    ]);
    await until('every impression counted once', impressions, (x) => x.length === 3 && x[2][1] >= 100);
    await sleep(1000); // room for a double count to show
    expect(await impressions()).toEqual([
      [new Date(DAY).toISOString(), 100],
      [new Date(DAY + 60 * MIN).toISOString(), 100],
      [new Date(DAY + 120 * MIN).toISOString(), 100],
    ]);
    expect(await availability()).toMatchObject({ available: 5, held: 2, sold: 3 });
    const co = await client('POST', `/api/v1/holds/${heldId}/checkout`, { paymentMethod: 'card' }, { 'idempotency-key': idem() });
    expect([200, 201, 202]).toContain(co.status);
    await until('second order confirmed', async () => (await client('GET', `/api/v1/orders/${co.body.orderId}`)).body, (o) => o.status === 'CONFIRMED');
    expect(await availability()).toMatchObject({ available: 5, held: 0, sold: 5 });
    expect((await service('GET', `/api/v1/gpu/nodes/${tag}-n1`)).status).toBe(200);
    for (const id of taskIds) expect((await client('GET', `/api/v1/tasks/${id}`)).status).toBe(200);
  }, 400_000);
});
