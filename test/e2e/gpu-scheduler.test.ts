import { httpAgentTransport, ScriptedAgent } from '../support/gpu-scripted-agent';
import { EventBus } from '../../src/platform/messaging/event-bus.port';
import { topicName } from '../../src/platform/messaging/topics';
import { JobQueue } from '../../src/platform/queue/job-queue.port';
import { http, KEYS, probeUntil, startTestApp, TestApp } from '../support/app';

let seq = 0;
const idem = () => `gk-${Date.now()}-${++seq}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The GPU scheduler over HTTP on the embedded profile: every route and every 4xx, and scheduling
 * driven through the real wire contract by a scripted agent that consumes the node queues and
 * POSTs reports (the real agents are tested in the agent's own suites).
 */
describe('gpu-scheduler (embedded profile over HTTP)', () => {
  let t: TestApp;
  let agent: ScriptedAgent;
  const events: { type: string; taskId: string; attempt: number }[] = [];
  const as = (key: string) => (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(t.url, method, path, { key, body, headers });
  const client = (m: string, p: string, b?: unknown, h?: Record<string, string>) => as(KEYS.client)(m, p, b, h);
  const service = (m: string, p: string, b?: unknown) => as(KEYS.service)(m, p, b);
  const submit = (body: Record<string, unknown>, key = idem()) => client('POST', '/api/v1/tasks', body, { 'idempotency-key': key });
  /** Tasks with a command: only service/admin keys may set one. */
  const submitAsService = (body: Record<string, unknown>) => as(KEYS.service)('POST', '/api/v1/tasks', body, { 'idempotency-key': idem() });
  const task = async (id: string) => (await client('GET', `/api/v1/tasks/${id}`)).body;
  const status = (id: string, s: string) => probeUntil(`${id} ${s}`, () => task(id), (v) => v.status === s);
  const node = (id: string, extra: Record<string, unknown> = {}) =>
    service('POST', '/api/v1/gpu/nodes', { id, gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, ...extra });
  const job = (extra: Record<string, unknown> = {}) => ({ userId: 'u1', tier: 'normal', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 40, ...extra });

  beforeAll(async () => {
    t = await startTestApp({
      APP_MODULES: 'gpu-scheduler',
      RATE_LIMIT_PER_SECOND: '0',
      GPU_CYCLE_INTERVAL_MS: '100',
      // generous for a loaded 2-core box: the scripted agent acks in milliseconds and heartbeats every 200 ms
      GPU_ACK_TIMEOUT_MS: '3000',
      GPU_HEARTBEAT_TIMEOUT_MS: '4000',
    });
    agent = new ScriptedAgent(t.app.get(JobQueue), httpAgentTransport(() => t.url));
    await t.app.get(EventBus).subscribe({
      groupId: 'gpu-e2e',
      topics: [topicName(t.config, 'gpu.tasks')],
      handleBatch: async (b) => {
        for (const m of b.messages) events.push(JSON.parse(m.value));
      },
    });
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await t?.close();
  });

  describe('bad input is a 4xx problem', () => {
    beforeAll(async () => {
      expect((await node('v-1')).status).toBe(200);
    });

    it.each([
      ['gpuCount 0', { gpuCount: 0 }, 400],
      ['gpuCount 65', { gpuCount: 65 }, 400],
      ['negative memory', { gpuMemoryGb: -1 }, 400],
      ['bad tier', { tier: 'gold' }, 400],
      ['missing userId', { userId: undefined }, 400],
      ['unknown field', { priority: 9 }, 400],
      ['bad onNodeFailure', { onNodeFailure: 'retry' }, 400],
      ['unknown gpuType', { gpuType: 'TPUv9' }, 422],
      ['more GPUs than exist', { gpuCount: 64 }, 422],
      ['more memory than any GPU', { gpuMemoryGb: 81 }, 422],
    ])('submit with %s', async (_name, patch, code) => {
      const r = await submit(job(patch));
      expect(r.status).toBe(code);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
      if (code === 422) expect(r.body).toMatchObject({ code: 'unsatisfiable_request', reason: expect.any(String) });
    });

    it('a client key may not set a command (403 problem+json); service and admin keys may', async () => {
      const r = await submit(job({ command: '/usr/bin/python3 serve.py' }));
      expect(r.status).toBe(403);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 403, code: 'command_forbidden' });
      for (const key of [KEYS.service, KEYS.admin]) {
        const ok = await as(key)('POST', '/api/v1/tasks', job({ command: '/usr/bin/python3 serve.py' }), { 'idempotency-key': idem() });
        expect(ok.status).toBe(202);
        expect((await task(ok.body.taskId)).command).toBe('/usr/bin/python3 serve.py');
        await client('DELETE', `/api/v1/tasks/${ok.body.taskId}`);
      }
    });

    it('the 422 names the reason', async () => {
      const r = await submit(job({ gpuType: 'TPUv9' }));
      expect(r.body.detail).toMatch(/unknown gpuType TPUv9/);
    });

    it('needs an Idempotency-Key and rejects one reused for another body', async () => {
      expect((await client('POST', '/api/v1/tasks', job())).status).toBe(400);
      const key = idem();
      const a = await submit(job({ model: 'idem' }), key);
      const b = await submit(job({ model: 'idem' }), key);
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(b.body.taskId).toBe(a.body.taskId);
      expect((await submit(job({ model: 'other' }), key)).status).toBe(422);
      await client('DELETE', `/api/v1/tasks/${a.body.taskId}`);
    });

    it('unknown task / node → 404; bad query and node bodies → 400; roles → 401/403', async () => {
      expect((await client('GET', '/api/v1/tasks/nope')).status).toBe(404);
      expect((await client('DELETE', '/api/v1/tasks/nope')).status).toBe(404);
      expect((await service('POST', '/api/v1/gpu/tasks/nope/report', { nodeId: 'v-1', attempt: 1, event: 'STARTED' })).status).toBe(404);
      expect((await service('POST', '/api/v1/gpu/nodes/nope/heartbeat', {})).status).toBe(404);
      expect((await service('PATCH', '/api/v1/gpu/nodes/nope', { status: 'DRAINING' })).status).toBe(404);
      expect((await service('PATCH', '/api/v1/gpu/nodes/v-1', { status: 'UNHEALTHY' })).status).toBe(400);
      expect((await service('POST', '/api/v1/gpu/tasks/x/report', { nodeId: 'v-1', attempt: 1, event: 'DONE' })).status).toBe(400);
      expect((await service('POST', '/api/v1/gpu/tasks/x/report', { nodeId: 'v-1', attempt: 0, event: 'STARTED' })).status).toBe(400);
      expect((await client('GET', '/api/v1/tasks?status=DONE')).status).toBe(400);
      expect((await client('GET', '/api/v1/tasks?limit=0')).status).toBe(400);
      expect((await client('GET', '/api/v1/tasks?cursor=%21%21')).status).toBe(400);
      expect((await node('bad id!')).status).toBe(400);
      expect((await node('v-2', { gpuCount: 0 })).status).toBe(400);
      expect((await node('v-2', { gpuMemoryGb: -5 })).status).toBe(400);
      expect((await node('v-2', { labels: { a: 1 } })).status).toBe(400);
      expect((await service('POST', '/api/v1/gpu/nodes/v-1/heartbeat', { gpuUtilization: [101] })).status).toBe(400);
      expect((await client('POST', '/api/v1/gpu/nodes', { id: 'v-3', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 1 })).status).toBe(403);
      expect((await http(t.url, 'GET', '/api/v1/gpu/cluster')).status).toBe(401);
    });

    afterAll(async () => {
      expect((await service('PATCH', '/api/v1/gpu/nodes/v-1', { status: 'MAINTENANCE' })).status).toBe(200);
    });
  });

  it('runs a task through QUEUED → SCHEDULED → RUNNING → SUCCEEDED and frees its GPUs, with gpu.tasks events', async () => {
    expect((await node('n-1')).body).toMatchObject({ id: 'n-1', status: 'ACTIVE', freeGpuIndices: [0, 1, 2, 3, 4, 5, 6, 7] });
    agent.attach('n-1');
    const r = await submitAsService(job({ gpuCount: 2, model: 'llama', estimatedRuntimeSec: 120, command: 'sleep 1' }));
    expect(r).toMatchObject({ status: 202, body: { taskId: expect.any(String), status: 'QUEUED' } });
    const id = r.body.taskId;
    const running = await status(id, 'RUNNING');
    expect(running).toMatchObject({ attempt: 1, predictedRuntimeSec: 120, placement: [{ nodeId: 'n-1', gpuIndices: expect.any(Array) }] });
    expect(running.placement[0].gpuIndices).toHaveLength(2);
    expect(running.startedAt).not.toBeNull();
    const d = agent.dispatches.find((x) => x.taskId === id)!;
    expect(d).toMatchObject({ attempt: 1, nodeId: 'n-1', command: 'sleep 1', model: 'llama', predictedRuntimeSec: 120 });
    expect(d.ackDeadline).toBeGreaterThan(Date.now() - 60_000);

    const during = (await client('GET', '/api/v1/gpu/cluster')).body;
    expect(during.nodes.find((n: { id: string }) => n.id === 'n-1')).toMatchObject({ total: 8, used: 2, free: 6 });

    await agent.finish(id);
    const done = await status(id, 'SUCCEEDED');
    expect(done.finishedAt).not.toBeNull();
    expect(done.exitCode).toBe(0);
    const after = (await client('GET', '/api/v1/gpu/cluster')).body;
    expect(after.nodes.find((n: { id: string }) => n.id === 'n-1')).toMatchObject({ used: 0, free: 8 });
    expect(after.quota.normalGpuHours).toBeGreaterThan(0);
    expect(after.runtimePrediction).toMatchObject({ samples: 1, underPredictedFraction: 0 });
    expect(after.runtimePrediction.meanAbsErrorSec).toBeGreaterThan(100);

    // an agent that still lists the finished task in its heartbeat is told to stop it
    await service('POST', '/api/v1/gpu/nodes/n-1/heartbeat', { runningTaskIds: [id] });
    await probeUntil('orphan cancel', async () => agent.cancels.some((c) => c.taskId === id && c.nodeId === 'n-1'), (x) => x);

    // a repeated report changes nothing; a report from another attempt is ignored
    const dup = await service('POST', `/api/v1/gpu/tasks/${id}/report`, { nodeId: 'n-1', attempt: 1, event: 'SUCCEEDED' });
    expect(dup.body).toMatchObject({ status: 'SUCCEEDED', ignored: 'duplicate' });
    const stale = await service('POST', `/api/v1/gpu/tasks/${id}/report`, { nodeId: 'n-1', attempt: 7, event: 'FAILED' });
    expect(stale.body).toMatchObject({ status: 'SUCCEEDED', ignored: 'stale_attempt' });

    await probeUntil('events', async () => events.filter((e) => e.taskId === id).map((e) => e.type), (v) => v.length >= 4);
    expect(events.filter((e) => e.taskId === id).map((e) => e.type)).toEqual(['QUEUED', 'SCHEDULED', 'RUNNING', 'SUCCEEDED']);

    // the finished runtime feeds the predictor: the next 'llama' x2 task is predicted from history
    const next = await submit(job({ gpuCount: 2, model: 'llama', estimatedRuntimeSec: 999 }));
    const v = await task(next.body.taskId);
    expect(v.predictedRuntimeSec).toBeLessThan(999);
    await status(next.body.taskId, 'RUNNING');
    await agent.finish(next.body.taskId);
    await status(next.body.taskId, 'SUCCEEDED');
  });

  it('places a gang across the fewest nodes, all at once, and a failure on one node cancels the rest', async () => {
    await node('n-2');
    agent.attach('n-2');
    const r = await submit(job({ gpuCount: 12, tier: 'vip' }));
    const v = await status(r.body.taskId, 'RUNNING');
    expect(v.placement.map((p: { nodeId: string }) => p.nodeId).sort()).toEqual(['n-1', 'n-2']);
    expect(v.placement.reduce((s: number, p: { gpuIndices: number[] }) => s + p.gpuIndices.length, 0)).toBe(12);
    // one node fails: the task FAILS, the peer gets a CANCEL, and every GPU comes back
    const [first] = agent.running.get(r.body.taskId)!;
    await service('POST', `/api/v1/gpu/tasks/${r.body.taskId}/report`, { nodeId: first.nodeId, attempt: 1, event: 'FAILED', exitCode: 3, reason: 'OOM' });
    const failed = await status(r.body.taskId, 'FAILED');
    expect(failed).toMatchObject({ exitCode: 3, reason: 'OOM' });
    await probeUntil('peer cancel', async () => agent.cancels.filter((c) => c.taskId === r.body.taskId).length, (n) => n === 1);
    await probeUntil(
      'GPUs free',
      async () => (await client('GET', '/api/v1/gpu/cluster')).body.gpuTypes.A100,
      (a) => a.used === 0 && a.free === 16,
    );
  });

  it("keeps a gang peer's GPUs until its agent confirms the stop (report or heartbeat)", async () => {
    for (const id of ['g-1', 'g-2', 'g-3']) {
      await node(id, { gpuType: 'RTX', gpuCount: 2, gpuMemoryGb: 24 });
      agent.attach(id);
    }
    const usedOn = async (id: string) => (await service('GET', `/api/v1/gpu/nodes/${id}`)).body.freeGpuIndices.length;
    const r = await submit(job({ gpuType: 'RTX', gpuCount: 6, gpuMemoryGb: 8 }));
    const id = r.body.taskId;
    await status(id, 'RUNNING');
    // g-2 and g-3 will not answer their CANCEL jobs
    agent.setMode('g-2', 'silent');
    agent.setMode('g-3', 'silent');
    await service('POST', `/api/v1/gpu/tasks/${id}/report`, { nodeId: 'g-1', attempt: 1, event: 'FAILED', exitCode: 1 });
    await status(id, 'FAILED');
    await probeUntil('cancels sent', async () => agent.cancels.filter((c) => c.taskId === id).length, (n) => n === 2);
    expect(await usedOn('g-1')).toBe(2); // g-1's process ended: free
    expect(await usedOn('g-2')).toBe(0); // g-2 may still run it: held
    expect(await usedOn('g-3')).toBe(0);
    // g-2's agent confirms by a (late) terminal report, g-3's by a heartbeat that no longer lists the task
    const late = await service('POST', `/api/v1/gpu/tasks/${id}/report`, { nodeId: 'g-2', attempt: 1, event: 'CANCELLED' });
    expect(late.body).toMatchObject({ status: 'FAILED' });
    expect(await usedOn('g-2')).toBe(2);
    await service('POST', '/api/v1/gpu/nodes/g-3/heartbeat', { runningTaskIds: [id] });
    expect(await usedOn('g-3')).toBe(0);
    await service('POST', '/api/v1/gpu/nodes/g-3/heartbeat', { runningTaskIds: [] });
    expect(await usedOn('g-3')).toBe(2);
    for (const n of ['g-1', 'g-2', 'g-3']) await service('PATCH', `/api/v1/gpu/nodes/${n}`, { status: 'MAINTENANCE' });
  });

  it('cancels a queued task at once (200) and a running one through its agent (202)', async () => {
    // 16 GPUs of n-1 + n-2: a 16-GPU task fills them, so the next one waits
    const big = await submit(job({ gpuCount: 16 }));
    await status(big.body.taskId, 'RUNNING');
    const waiting = await submit(job({ gpuCount: 1 }));
    const q = await task(waiting.body.taskId);
    expect(q).toMatchObject({ status: 'QUEUED', queuePosition: 1 });
    const c1 = await client('DELETE', `/api/v1/tasks/${waiting.body.taskId}`);
    expect(c1).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    expect((await client('DELETE', `/api/v1/tasks/${waiting.body.taskId}`)).status).toBe(200);

    const c2 = await client('DELETE', `/api/v1/tasks/${big.body.taskId}`);
    expect(c2).toMatchObject({ status: 202, body: { status: 'RUNNING', cancelRequested: true } });
    await status(big.body.taskId, 'CANCELLED');
    expect(agent.cancels.filter((c) => c.taskId === big.body.taskId).map((c) => c.nodeId).sort()).toEqual(['n-1', 'n-2']);
    expect((await client('DELETE', `/api/v1/tasks/${big.body.taskId}`)).status).toBe(200);
    const done = await submit(job());
    await status(done.body.taskId, 'RUNNING');
    await agent.finish(done.body.taskId);
    await status(done.body.taskId, 'SUCCEEDED');
    expect((await client('DELETE', `/api/v1/tasks/${done.body.taskId}`)).status).toBe(409);
  });

  it('rolls back a dispatch that is not acknowledged in time: back to the head of the queue, next attempt elsewhere', async () => {
    await node('n-3', { gpuType: 'T4', gpuCount: 2, gpuMemoryGb: 16 });
    await node('n-4', { gpuType: 'T4', gpuCount: 1, gpuMemoryGb: 16 });
    agent.attach('n-3', 'silent');
    agent.attach('n-4', 'run');
    const r = await submit(job({ gpuType: 'T4', gpuMemoryGb: 8 }));
    const id = r.body.taskId;
    const first = await probeUntil('dispatch', async () => agent.dispatches.find((d) => d.taskId === id), (d) => d !== undefined);
    expect(first!.nodeId).toBe('n-3'); // worst-fit: the node with more free GPUs
    const queuedAt = (await task(id)).queuedAt;
    // n-3 never ACKs: after GPU_ACK_TIMEOUT_MS the binding is undone and the task binds again (attempt 2);
    // the silent agent keeps it off n-3 only by chance, so make n-3 unattractive now
    await service('PATCH', '/api/v1/gpu/nodes/n-3', { status: 'DRAINING' });
    const v = await probeUntil('rebound', () => task(id), (x) => x.attempt >= 2 && x.status === 'RUNNING');
    expect(v).toMatchObject({ queuedAt, placement: [{ nodeId: 'n-4', gpuIndices: [0] }] });
    expect(agent.cancels.some((c) => c.taskId === id && c.nodeId === 'n-3' && c.attempt === 1)).toBe(true);
    // the late ACK of attempt 1 is stale
    const late = await service('POST', `/api/v1/gpu/tasks/${id}/report`, { nodeId: 'n-3', attempt: 1, event: 'ACCEPTED' });
    expect(late.body).toMatchObject({ ignored: 'stale_attempt', status: 'RUNNING' });
    const n3 = (await service('GET', '/api/v1/gpu/nodes/n-3')).body;
    expect(n3.freeGpuIndices).toEqual([0, 1]);
    expect(events.some((e) => e.taskId === id && e.type === 'REQUEUED')).toBe(true);
    await agent.finish(id);
    await status(id, 'SUCCEEDED');
  });

  it('a node that misses heartbeats turns UNHEALTHY: fail-policy tasks FAIL, requeue-policy tasks run elsewhere', async () => {
    await node('h-1', { gpuType: 'L4', gpuCount: 2, gpuMemoryGb: 24 });
    agent.attach('h-1');
    const fail = await submit(job({ gpuType: 'L4', gpuMemoryGb: 8 }));
    const requeue = await submit(job({ gpuType: 'L4', gpuMemoryGb: 8, onNodeFailure: 'requeue' }));
    await status(fail.body.taskId, 'RUNNING');
    await status(requeue.body.taskId, 'RUNNING');
    agent.kill('h-1');
    const failed = await status(fail.body.taskId, 'FAILED');
    expect(failed.reason).toMatch(/h-1 became UNHEALTHY/);
    expect((await service('GET', '/api/v1/gpu/nodes/h-1')).body.status).toBe('UNHEALTHY');
    await status(requeue.body.taskId, 'QUEUED');
    const cluster = (await client('GET', '/api/v1/gpu/cluster')).body;
    expect(cluster.gpuTypes.L4).toMatchObject({ total: 0, free: 0 });
    // another L4 node arrives: the requeued task runs there as attempt 2
    await node('h-2', { gpuType: 'L4', gpuCount: 1, gpuMemoryGb: 24 });
    agent.attach('h-2');
    const moved = await probeUntil('requeued task running', () => task(requeue.body.taskId), (v) => v.status === 'RUNNING');
    expect(moved).toMatchObject({ attempt: 2, placement: [{ nodeId: 'h-2', gpuIndices: [0] }] });
    // the dead agent comes back by re-registering: ACTIVE, all GPUs free
    const back = await node('h-1', { gpuType: 'L4', gpuCount: 2, gpuMemoryGb: 24 });
    expect(back.body).toMatchObject({ status: 'ACTIVE', freeGpuIndices: [0, 1] });
    agent.attach('h-1');
    await agent.finish(requeue.body.taskId);
    await status(requeue.body.taskId, 'SUCCEEDED');
  });

  it('DRAINING nodes get no new work; re-registering keeps the admin status', async () => {
    await node('d-1', { gpuType: 'V100', gpuCount: 1, gpuMemoryGb: 16 });
    agent.attach('d-1');
    expect((await service('PATCH', '/api/v1/gpu/nodes/d-1', { status: 'DRAINING' })).body.status).toBe('DRAINING');
    expect((await node('d-1', { gpuType: 'V100', gpuCount: 1, gpuMemoryGb: 16 })).body.status).toBe('DRAINING');
    const r = await submit(job({ gpuType: 'V100', gpuMemoryGb: 8 }));
    await sleep(400);
    expect((await task(r.body.taskId)).status).toBe('QUEUED');
    const cluster = (await client('GET', '/api/v1/gpu/cluster')).body;
    expect(cluster.queues.normal.length).toBeGreaterThanOrEqual(1);
    expect(cluster.queues.normal.oldestWaitSec).toBeGreaterThan(0);
    expect(cluster.queues.byGpuType.V100.normal).toBe(1);
    // what the GpuQueueWaitHigh alert watches
    const waited = /^gpu_scheduler_queue_oldest_wait_seconds\{tier="normal"\} (\S+)$/m.exec((await http(t.url, 'GET', '/metrics')).body as string);
    expect(Number(waited?.[1])).toBeGreaterThan(0);
    await service('PATCH', '/api/v1/gpu/nodes/d-1', { status: 'ACTIVE' });
    await status(r.body.taskId, 'RUNNING');
    await agent.finish(r.body.taskId);
    await status(r.body.taskId, 'SUCCEEDED');
  });

  it('lists tasks by user and status with cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(job({ userId: 'pager', gpuType: 'A100', gpuCount: 24 }))).body.taskId);
    for (const id of ids) await client('DELETE', `/api/v1/tasks/${id}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { items: { taskId: string; userId: string }[]; nextCursor: string | null } } = await client(
        'GET',
        `/api/v1/tasks?userId=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.every((x) => x.userId === 'pager')).toBe(true);
      seen.push(...page.body.items.map((x) => x.taskId));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const cancelled = await client('GET', '/api/v1/tasks?userId=pager&status=CANCELLED&limit=500');
    expect(cancelled.body.items).toHaveLength(5);
    expect((await client('GET', '/api/v1/tasks?userId=pager&status=RUNNING')).body.items).toHaveLength(0);
  });

  it('rolls back when the dispatch cannot be queued', async () => {
    await node('f-1', { gpuType: 'H100', gpuCount: 1, gpuMemoryGb: 80 });
    agent.attach('f-1');
    const queue = t.app.get(JobQueue);
    const real = queue.add.bind(queue);
    let failures = 0;
    // Fault injection on the queue adapter: the first dispatch to f-1 fails as a broker outage would.
    const spy = jest.spyOn(queue, 'add').mockImplementation(async (q, name, data, opts) => {
      if (q.includes('f-1') && name === 'dispatch' && failures++ === 0) throw new Error('queue unavailable');
      return real(q, name, data, opts);
    });
    try {
      const r = await submit(job({ gpuType: 'H100' }));
      const v = await probeUntil('running after rollback', () => task(r.body.taskId), (x) => x.status === 'RUNNING');
      expect(failures).toBeGreaterThanOrEqual(2);
      expect(v.attempt).toBe(2);
      expect(events.some((e) => e.taskId === r.body.taskId && e.type === 'REQUEUED')).toBe(true);
      await agent.finish(r.body.taskId);
      await status(r.body.taskId, 'SUCCEEDED');
    } finally {
      spy.mockRestore();
    }
  });

  it('shares a GPU: shares that fit run side by side within the node\'s CPU and memory, the agent gets the share, the next waits', async () => {
    expect((await node('sh-1', { gpuType: 'A10G', gpuCount: 1, gpuMemoryGb: 16, cpuMilli: 4000, memoryMib: 8192 })).body).toMatchObject({
      cpuMilli: 4000,
      memoryMib: 8192,
      gpuUsedMilli: [0],
      cpuUsedMilli: 0,
      memoryUsedMib: 0,
    });
    agent.attach('sh-1');
    const share = (gpuMilli: number) => job({ gpuType: 'A10G', gpuMemoryGb: 4, gpuMilli, cpuMilli: 1000, memoryMib: 2048, estimatedRuntimeSec: 60 });
    const a = (await submit(share(500))).body.taskId;
    const b = (await submit(share(300))).body.taskId;
    const ra = await status(a, 'RUNNING');
    await status(b, 'RUNNING');
    expect(ra).toMatchObject({ gpuMilli: 500, cpuMilli: 1000, memoryMib: 2048, placement: [{ nodeId: 'sh-1', gpuIndices: [0], gpuMilli: 500, cpuMilli: 1000, memoryMib: 2048 }] });
    expect(agent.dispatches.find((d) => d.taskId === a)).toMatchObject({ nodeId: 'sh-1', gpuIndices: [0], gpuMilli: 500, cpuMilli: 1000, memoryMib: 2048 });
    expect((await service('GET', '/api/v1/gpu/nodes/sh-1')).body).toMatchObject({ freeGpuIndices: [], gpuUsedMilli: [800], cpuUsedMilli: 2000, memoryUsedMib: 4096 });
    const c = (await submit(share(400))).body.taskId; // 800 + 400 > 1000: waits
    await sleep(500);
    expect((await task(c)).status).toBe('QUEUED');
    await agent.finish(a);
    await status(c, 'RUNNING');
    expect((await service('GET', '/api/v1/gpu/nodes/sh-1')).body).toMatchObject({ gpuUsedMilli: [700], cpuUsedMilli: 2000, memoryUsedMib: 4096 });
    await agent.finish(b);
    await agent.finish(c);
    await status(c, 'SUCCEEDED');
    expect((await service('GET', '/api/v1/gpu/nodes/sh-1')).body).toMatchObject({ freeGpuIndices: [0], gpuUsedMilli: [0], cpuUsedMilli: 0, memoryUsedMib: 0 });
  });

  it('rejects malformed shares and resources with 400 problem+json', async () => {
    for (const bad of [
      { gpuMilli: 500, gpuCount: 2 },
      { gpuMilli: 0 },
      { gpuMilli: 1001 },
      { gpuMilli: 2.5 },
      { cpuMilli: -1 },
      { memoryMib: 'x' },
      { gangPlacement: 'anywhere' },
    ]) {
      const r = await submit(job(bad));
      expect({ bad, status: r.status, type: r.headers.get('content-type') }).toMatchObject({ status: 400, type: expect.stringMatching(/problem\+json/) });
    }
    expect((await submit(job({ gpuMilli: 500, gpuCount: 2 }))).body).toMatchObject({ code: 'invalid_share' });
    expect((await node('v-9', { cpuMilli: -5 })).status).toBe(400);
    expect((await node('v-9', { memoryMib: 1.5 })).status).toBe(400);
  });

  it('exports the quota window share per tier and the blocked head\'s slip as metrics', async () => {
    const metrics = async () => (await http(t.url, 'GET', '/metrics')).body as string;
    const slipCount = (text: string) => Number(/gpu_scheduler_head_slip_seconds_count (\d+)/.exec(text)?.[1] ?? 0);
    const before = slipCount(await metrics());
    expect((await node('slip-1', { gpuType: 'A40', gpuCount: 2, gpuMemoryGb: 16 })).status).toBe(200);
    agent.attach('slip-1');
    const x = (await submit(job({ gpuType: 'A40', gpuCount: 2, gpuMemoryGb: 8, estimatedRuntimeSec: 600 }))).body.taskId;
    await status(x, 'RUNNING');
    const cycles = (text: string) => Number(/gpu_scheduler_cycle_seconds_count (\d+)/.exec(text)?.[1] ?? 0);
    const cyclesBefore = cycles(await metrics());
    const y = (await submit(job({ gpuType: 'A40', gpuCount: 2, gpuMemoryGb: 8, estimatedRuntimeSec: 600, tier: 'vip' }))).body.taskId;
    // Blocked head: a reservation at x's predicted end. Two more finished cycles mean one ran wholly
    // after y was queued (a fixed sleep was too short under load).
    await probeUntil('two scheduling cycles with y queued', metrics, (text) => cycles(text) >= cyclesBefore + 2);
    await agent.finish(x); // x ends long before its prediction, so y starts early: slip 0
    await status(y, 'RUNNING');
    const text = await metrics();
    expect(slipCount(text)).toBeGreaterThan(before);
    expect(text).toMatch(/gpu_scheduler_head_slip_seconds_bucket\{le="0"\} [1-9]/);
    const vip = Number(/gpu_quota_window_share\{tier="vip"\} ([0-9.e-]+)/.exec(text)?.[1]);
    const normal = Number(/gpu_quota_window_share\{tier="normal"\} ([0-9.e-]+)/.exec(text)?.[1]);
    expect(vip).toBeGreaterThan(0);
    expect(vip + normal).toBeCloseTo(1);
    await agent.finish(y);
    await status(y, 'SUCCEEDED');
  });

  it('reports the cluster per node and per GPU type', async () => {
    const c = (await client('GET', '/api/v1/gpu/cluster')).body;
    expect(c.gpuTypes.A100).toMatchObject({ nodes: 3, used: 0 });
    expect(c.nodes.find((n: { id: string }) => n.id === 'n-1')).toMatchObject({ gpuType: 'A100', gpuCount: 8, total: 8, used: 0, free: 8, utilization: 0 });
    expect(c.quota).toMatchObject({ windowSec: 3600, targetVipShare: 0.8 });
    expect(c.quota.vipGpuHours).toBeGreaterThan(0);
    expect(c.quota.vipShare + c.quota.normalShare).toBeCloseTo(1);
    expect(c.queues).toMatchObject({ vip: { length: expect.any(Number) }, normal: { length: expect.any(Number) } });
    expect(agent.errors).toEqual([]);
  });
});
