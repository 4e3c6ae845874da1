import { httpAgentTransport, ScriptedAgent } from '../support/gpu-scripted-agent';
import { EventBus, Subscription } from '../../src/platform/messaging/event-bus.port';
import { topicName } from '../../src/platform/messaging/topics';
import { JobQueue } from '../../src/platform/queue/job-queue.port';
import { http, KEYS, probeUntil, startTestApp, TestApp } from '../support/app';

let seq = 0;
const idem = () => `gf-${Date.now()}-${++seq}`;

const decisions = async (t: TestApp, outcome = 'bound') => {
  const text = (await http(t.url, 'GET', '/metrics')).body as string;
  const m = new RegExp(`gpu_scheduler_decisions_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
};

/**
 * The GPU scheduler on the full profile: PostgreSQL binding, BullMQ node queues, Kafka `gpu.tasks`,
 * and the leader lease between two scheduler processes (one active, the other taking over when the
 * first goes away).
 */
describe('gpu-scheduler (full profile: PostgreSQL, BullMQ, Kafka)', () => {
  let a: TestApp;
  let b: TestApp;
  let agent: ScriptedAgent;
  let sub: Subscription | undefined;
  const events: { type: string; taskId: string; attempt: number; eventId: string }[] = [];
  const ns = `t-gfull-${Date.now().toString(36)}`;
  let live: TestApp;
  const closed = new Set<TestApp>();
  const call = (key: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(live.url, method, path, { key, body, headers });
  const submit = (body: Record<string, unknown>) => call(KEYS.client, 'POST', '/api/v1/tasks', body, { 'idempotency-key': idem() });
  const task = async (id: string) => (await call(KEYS.client, 'GET', `/api/v1/tasks/${id}`)).body;
  const status = (id: string, s: string) => probeUntil(`${id} ${s}`, () => task(id), (v) => v.status === s, 300);
  const job = (extra: Record<string, unknown> = {}) => ({ userId: 'fu', tier: 'vip', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 10, ...extra });

  beforeAll(async () => {
    const env = {
      APP_PROFILE: 'full',
      APP_MODULES: 'gpu-scheduler',
      NAMESPACE: ns,
      RATE_LIMIT_PER_SECOND: '0',
      GPU_CYCLE_INTERVAL_MS: '100',
      GPU_LEASE_TTL_MS: '1000',
      GPU_ACK_TIMEOUT_MS: '3000',
      GPU_HEARTBEAT_TIMEOUT_MS: '60000',
    };
    a = await startTestApp(env);
    b = await startTestApp(env);
    live = b;
    agent = new ScriptedAgent(b.app.get(JobQueue), httpAgentTransport(() => live.url));
    sub = await b.app.get(EventBus).subscribe({
      groupId: `${ns}.e2e`,
      topics: [topicName(b.config, 'gpu.tasks')],
      handleBatch: async (batch) => {
        for (const m of batch.messages) events.push(JSON.parse(m.value));
      },
    });
  }, 90_000);
  afterAll(async () => {
    await sub?.close();
    await agent?.close();
    await Promise.all([a, b].filter((x) => x && !closed.has(x)).map((x) => x.close()));
  });

  it('registers nodes, runs a gang to success through BullMQ, and publishes its lifecycle to Kafka', async () => {
    for (const id of ['f-1', 'f-2']) {
      const r = await call(KEYS.service, 'POST', '/api/v1/gpu/nodes', { id, gpuType: 'A100', gpuCount: 4, gpuMemoryGb: 40, labels: { rack: 'r1' } });
      expect(r.status).toBe(200);
      agent.attach(id);
    }
    expect((await call(KEYS.service, 'POST', '/api/v1/gpu/nodes/f-1/heartbeat', { runningTaskIds: [], gpuUtilization: [0, 0, 0, 0] })).status).toBe(200);
    const r = await submit(job({ gpuCount: 6 }));
    expect(r.status).toBe(202);
    const v = await status(r.body.taskId, 'RUNNING');
    expect(v.placement).toHaveLength(2);
    await agent.finish(r.body.taskId);
    await status(r.body.taskId, 'SUCCEEDED');
    const types = await probeUntil(
      'events on Kafka',
      async () => events.filter((e) => e.taskId === r.body.taskId).map((e) => e.type),
      (x) => x.includes('SUCCEEDED'),
      400,
    );
    expect(types).toEqual(['QUEUED', 'SCHEDULED', 'RUNNING', 'SUCCEEDED']);
    const cluster = (await call(KEYS.client, 'GET', '/api/v1/gpu/cluster')).body;
    expect(cluster.gpuTypes.A100).toMatchObject({ total: 8, free: 8, used: 0, nodes: 2 });
    expect(cluster.nodes[0].labels).toEqual({ rack: 'r1' });
    expect(cluster.quota.vipShare).toBe(1);
  }, 60_000);

  it('answers 4xx for bad input on the full profile too', async () => {
    expect((await submit(job({ gpuCount: 0 }))).status).toBe(400);
    expect((await submit(job({ gpuCount: 65 }))).status).toBe(400);
    expect((await submit(job({ gpuMemoryGb: -1 }))).status).toBe(400);
    expect((await submit(job({ tier: 'gold' }))).status).toBe(400);
    const unknown = await submit(job({ gpuType: 'MI300' }));
    expect(unknown).toMatchObject({ status: 422, body: { code: 'unsatisfiable_request' } });
    expect((await call(KEYS.client, 'GET', '/api/v1/tasks/unknown')).status).toBe(404);
    expect((await call(KEYS.client, 'DELETE', '/api/v1/tasks/unknown')).status).toBe(404);
    expect((await call(KEYS.service, 'POST', '/api/v1/gpu/tasks/unknown/report', { nodeId: 'f-1', attempt: 1, event: 'ACCEPTED' })).status).toBe(404);
    expect((await call(KEYS.service, 'PATCH', '/api/v1/gpu/nodes/f-1', { status: 'BROKEN' })).status).toBe(400);
  });

  it('cancels running tasks through the node queue and lists them page by page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submit(job({ userId: 'lister', gpuCount: 2 }))).body.taskId);
    for (const id of ids.slice(0, 3)) await status(id, 'RUNNING');
    const c = await call(KEYS.client, 'DELETE', `/api/v1/tasks/${ids[0]}`);
    expect(c.status).toBe(202);
    await status(ids[0], 'CANCELLED');
    for (const id of ids.slice(1)) {
      await agent.finish(id);
      await status(id, 'SUCCEEDED');
    }
    const p1 = await call(KEYS.client, 'GET', '/api/v1/tasks?userId=lister&limit=2');
    const p2 = await call(KEYS.client, 'GET', `/api/v1/tasks?userId=lister&limit=2&cursor=${p1.body.nextCursor}`);
    expect([...p1.body.items, ...p2.body.items].map((x: { taskId: string }) => x.taskId)).toEqual([...ids].reverse());
    expect(p2.body.nextCursor).toBeNull();
    expect((await call(KEYS.client, 'GET', '/api/v1/tasks?userId=lister&status=CANCELLED')).body.items).toHaveLength(1);
  }, 60_000);

  it('rolls back an unacknowledged dispatch and keeps the original queuedAt', async () => {
    await call(KEYS.service, 'POST', '/api/v1/gpu/nodes', { id: 'f-s', gpuType: 'T4', gpuCount: 1, gpuMemoryGb: 16 });
    agent.attach('f-s', 'silent');
    const r = await submit(job({ gpuType: 'T4' }));
    const first = await probeUntil('dispatched', () => task(r.body.taskId), (v) => v.status === 'SCHEDULED', 300);
    // the agent says nothing: after GPU_ACK_TIMEOUT_MS the binding is undone and tried again
    const again = await probeUntil('attempt 2', () => task(r.body.taskId), (v) => v.attempt >= 2, 400);
    expect(again.queuedAt).toBe(first.queuedAt);
    agent.setMode('f-s', 'run');
    const v = await probeUntil('running', () => task(r.body.taskId), (x) => x.status === 'RUNNING', 400);
    expect(v.attempt).toBeGreaterThanOrEqual(2);
    await agent.finish(r.body.taskId);
    await status(r.body.taskId, 'SUCCEEDED');
    expect(events.some((e) => e.taskId === r.body.taskId && e.type === 'REQUEUED')).toBe(true);
  }, 60_000);

  it('one scheduler holds the lease; when it stops, the other takes over', async () => {
    const boundA = await decisions(a);
    const boundB = await decisions(b);
    // Exactly one of the two processes has been binding.
    expect([boundA, boundB].filter((n) => n > 0)).toHaveLength(1);
    const leader = boundA > 0 ? a : b;
    const follower = leader === a ? b : a;
    const followerBefore = await decisions(follower);
    if (leader === b) {
      await sub?.close();
      sub = undefined;
    }
    closed.add(leader);
    await leader.close();
    live = follower;
    if (leader === b) {
      // the scripted agent reads the node queues through b's adapter: move it to a
      await agent.close();
      agent = new ScriptedAgent(a.app.get(JobQueue), httpAgentTransport(() => live.url));
      for (const id of ['f-1', 'f-2', 'f-s']) agent.attach(id);
    }
    const r = await submit(job({ gpuCount: 1 }));
    await status(r.body.taskId, 'RUNNING');
    expect(await decisions(follower)).toBeGreaterThan(followerBefore);
    await agent.finish(r.body.taskId);
    await status(r.body.taskId, 'SUCCEEDED');
  }, 60_000);
});
