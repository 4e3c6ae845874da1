import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryJobQueue } from '../../../platform/queue/memory-job-queue';
import { nodeOnlyPolicy, taskWritableDir } from '../../../../test/support/gpu-command-policy';
import { AgentReport, CANCEL_JOB, DISPATCH_JOB, DispatchMessage, HeartbeatBody, nodeQueueName } from '../agent-protocol';
import { GpuInventory } from './gpu-discovery';
import { NodeAgent } from './node-agent';
import { CommandOrSimulatedExecutor, ProcessRunner } from './process-runner';
import { HttpSchedulerClient } from './scheduler-client';
import { SimulatedRunner } from './simulated-runner';
import { RunningTask, RunSpec, TaskExecutor, TaskOutcome } from './task-executor';

interface Seen {
  method: string;
  path: string;
  key: string | undefined;
  body: any;
}

/**
 * A stand-in for the scheduler's HTTP side of agent-protocol.ts: records every call and answers
 * what the test scripts (default 200 for all).
 */
class FakeScheduler {
  readonly seen: Seen[] = [];
  respond: (s: Seen) => number = () => 200;
  /** Body of a 2xx answer (the real scheduler answers reports with `{ taskId, status, attempt, ignored? }`). */
  answer: (s: Seen) => unknown = () => ({ ok: true });
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        const s: Seen = { method: req.method!, path: req.url!, key: req.headers['x-api-key'] as string, body: data ? JSON.parse(data) : undefined };
        this.seen.push(s);
        const status = this.respond(s);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status < 300 ? this.answer(s) : { code: `status_${status}`, detail: 'scripted' }));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  reports(taskId?: string): (AgentReport & { taskId: string })[] {
    return this.seen
      .filter((s) => /\/api\/v1\/gpu\/tasks\/[^/]+\/report$/.test(s.path))
      .map((s) => ({ ...s.body, taskId: decodeURIComponent(s.path.split('/')[5]) }))
      .filter((r) => taskId === undefined || r.taskId === taskId);
  }

  events(taskId: string): string[] {
    return this.reports(taskId).map((r) => r.event);
  }

  heartbeats(): HeartbeatBody[] {
    return this.seen.filter((s) => s.path.endsWith('/heartbeat')).map((s) => s.body);
  }
}

/** An executor whose runs the test ends by hand. */
class ManualExecutor implements TaskExecutor {
  readonly started: RunSpec[] = [];
  readonly runs = new Map<string, { finish(o: TaskOutcome): void; cancelled?: string }>();
  start(spec: RunSpec): RunningTask {
    this.started.push(spec);
    let finish!: (o: TaskOutcome) => void;
    const done = new Promise<TaskOutcome>((r) => (finish = r));
    const entry: { finish(o: TaskOutcome): void; cancelled?: string } = { finish };
    this.runs.set(spec.taskId, entry);
    return {
      done,
      cancel: (reason = 'cancelled') => {
        entry.cancelled = reason;
        finish({ kind: 'CANCELLED', reason });
      },
    };
  }
}

const until = async (check: () => boolean, what: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const silent = { log: () => undefined, warn: () => undefined };

describe('NodeAgent against a fake scheduler (agent-protocol.ts)', () => {
  let fake: FakeScheduler;
  let queue: MemoryJobQueue;
  let agents: NodeAgent[];
  const inventory: GpuInventory = { gpuType: 'A100', gpuMemoryGb: 80, physicalIndices: [4, 5, 6, 7], simulated: false };

  const makeAgent = (executor: TaskExecutor, opts: { register?: boolean; heartbeatMs?: number } = {}) => {
    const client = new HttpSchedulerClient({ baseUrl: () => fake.url, apiKey: 'svc-key-123', retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    const agent = new NodeAgent({
      nodeId: 'node-a',
      inventory,
      client,
      queue,
      executor,
      heartbeatMs: opts.heartbeatMs ?? 50,
      register: opts.register ?? true,
      labels: { rack: 'r1' },
      log: silent,
    });
    agents.push(agent);
    return agent;
  };

  const dispatch = (taskId: string, extra: Partial<DispatchMessage> = {}) =>
    queue.add<DispatchMessage>(nodeQueueName('node-a'), DISPATCH_JOB, {
      taskId,
      attempt: 1,
      nodeId: 'node-a',
      gpuIndices: [1, 3],
      predictedRuntimeSec: 1,
      ackDeadline: Date.now() + 5_000,
      ...extra,
    });

  beforeEach(async () => {
    fake = new FakeScheduler();
    await fake.start();
    queue = new MemoryJobQueue();
    agents = [];
  });

  afterEach(async () => {
    for (const a of agents) await a.stop({ terminateRunning: true, graceMs: 100, waitMs: 1000 });
    await queue.close();
    await fake.stop();
  });

  it('registers with its inventory and the API key, then heartbeats', async () => {
    let failures = 2;
    fake.respond = (s) => (s.path === '/api/v1/gpu/nodes' && failures-- > 0 ? 503 : 200);
    await makeAgent(new ManualExecutor()).start();
    const regs = fake.seen.filter((s) => s.path === '/api/v1/gpu/nodes');
    expect(regs).toHaveLength(3); // two 503s retried
    expect(regs[2]).toMatchObject({
      method: 'POST',
      key: 'svc-key-123',
      body: { id: 'node-a', gpuType: 'A100', gpuCount: 4, gpuMemoryGb: 80, labels: { rack: 'r1' } },
    });
    await until(() => fake.heartbeats().length >= 2, 'heartbeats');
    expect(fake.heartbeats()[0]).toEqual({ runningTaskIds: [], gpuUtilization: [0, 0, 0, 0] });
  });

  it('runs a dispatch: ACCEPTED, STARTED, SUCCEEDED in order, slots mapped to device indices', async () => {
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-1', { command: 'python serve.py', predictedRuntimeSec: 42 });
    await until(() => ex.started.length === 1, 'start');
    expect(ex.started[0]).toEqual({ taskId: 't-1', attempt: 1, command: 'python serve.py', deviceIndices: [5, 7], predictedRuntimeSec: 42, gpuMilli: 1000 });
    await until(() => fake.events('t-1').includes('STARTED'), 'STARTED');
    // While it runs, heartbeats carry it and its slots look busy.
    await until(() => fake.heartbeats().some((h) => h.runningTaskIds?.includes('t-1')), 'heartbeat with t-1');
    expect(fake.heartbeats().find((h) => h.runningTaskIds?.includes('t-1'))?.gpuUtilization).toEqual([0, 100, 0, 100]);
    ex.runs.get('t-1')!.finish({ kind: 'SUCCEEDED', exitCode: 0 });
    await until(() => fake.events('t-1').includes('SUCCEEDED'), 'SUCCEEDED');
    expect(fake.reports('t-1')).toEqual([
      { taskId: 't-1', nodeId: 'node-a', attempt: 1, event: 'ACCEPTED' },
      { taskId: 't-1', nodeId: 'node-a', attempt: 1, event: 'STARTED' },
      { taskId: 't-1', nodeId: 'node-a', attempt: 1, event: 'SUCCEEDED', exitCode: 0 },
    ]);
    await until(() => agents[0].runningTaskIds().length === 0, 'task forgotten after its final report');
  });

  it('retries reports through 5xx and keeps the task in heartbeats until the final one lands', async () => {
    let failFinal = 3;
    fake.respond = (s) => (s.body?.event === 'FAILED' && failFinal-- > 0 ? 503 : 200);
    const ex = new ManualExecutor();
    const agent = makeAgent(ex);
    await agent.start();
    await dispatch('t-2');
    await until(() => fake.events('t-2').includes('STARTED'), 'STARTED');
    ex.runs.get('t-2')!.finish({ kind: 'FAILED', exitCode: 3, reason: 'exit code 3: CUDA OOM' });
    await until(() => fake.events('t-2').filter((e) => e === 'FAILED').length === 4, 'four FAILED tries');
    expect(fake.reports('t-2').at(-1)).toEqual({ taskId: 't-2', nodeId: 'node-a', attempt: 1, event: 'FAILED', exitCode: 3, reason: 'exit code 3: CUDA OOM' });
    await until(() => agent.runningTaskIds().length === 0, 'forgotten');
  });

  it('drops a dispatch whose ACCEPTED is refused (binding rolled back): nothing runs', async () => {
    fake.respond = (s) => (s.body?.event === 'ACCEPTED' ? 409 : 200);
    const ex = new ManualExecutor();
    const agent = makeAgent(ex);
    await agent.start();
    await dispatch('t-3');
    await until(() => fake.events('t-3').length === 1, 'ACCEPTED try');
    await until(() => agent.runningTaskIds().length === 0, 'dropped');
    expect(ex.started).toHaveLength(0);
    // The slots are free again: the next dispatch on them runs.
    fake.respond = () => 200;
    await dispatch('t-4');
    await until(() => ex.started.length === 1, 't-4 started');
  });

  it.each([
    [{ status: 'QUEUED', attempt: 1, ignored: 'stale_attempt' }],
    [{ status: 'SCHEDULED', attempt: 1, ignored: 'not_placed' }],
    [{ status: 'QUEUED', attempt: 1, ignored: 'not_applicable' }],
    [{ status: 'QUEUED', attempt: 1, ignored: 'duplicate' }],
  ])('drops a dispatch whose ACCEPTED the scheduler answers with %j', async (answer) => {
    fake.answer = (s) => (s.body?.event === 'ACCEPTED' ? { taskId: 't-3b', ...answer } : { ok: true });
    const ex = new ManualExecutor();
    const agent = makeAgent(ex);
    await agent.start();
    await dispatch('t-3b');
    await until(() => fake.events('t-3b').length === 1, 'ACCEPTED');
    await until(() => agent.runningTaskIds().length === 0, 'dropped');
    expect(ex.started).toHaveLength(0);
  });

  it('runs when ACCEPTED is a duplicate of a live binding', async () => {
    fake.answer = (s) => (s.body?.event === 'ACCEPTED' ? { taskId: 't-3c', status: 'SCHEDULED', attempt: 1, ignored: 'duplicate' } : { ok: true });
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-3c');
    await until(() => ex.started.length === 1, 'started');
  });

  it('gives up ACCEPTED at the ack deadline when the scheduler is unreachable', async () => {
    fake.respond = (s) => (s.body?.event === 'ACCEPTED' ? 503 : 200);
    const ex = new ManualExecutor();
    const agent = makeAgent(ex);
    await agent.start();
    await dispatch('t-5', { ackDeadline: Date.now() }); // budget floor is 2 s
    await until(() => fake.events('t-5').length >= 2, 'retries');
    await until(() => agent.runningTaskIds().length === 0, 'dropped after the budget');
    expect(ex.started).toHaveLength(0);
    expect(new Set(fake.events('t-5'))).toEqual(new Set(['ACCEPTED']));
  });

  it('acknowledges a redelivered dispatch again but runs it once; ignores stale attempts', async () => {
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-6', { attempt: 2 });
    await until(() => fake.events('t-6').includes('STARTED'), 'STARTED');
    await dispatch('t-6', { attempt: 2 });
    await dispatch('t-6', { attempt: 1 });
    await until(() => fake.events('t-6').filter((e) => e === 'ACCEPTED').length === 2, 'second ACCEPTED');
    expect(ex.started).toHaveLength(1);
    ex.runs.get('t-6')!.finish({ kind: 'SUCCEEDED', exitCode: 0 });
    await until(() => fake.events('t-6').includes('SUCCEEDED'), 'SUCCEEDED');
    await dispatch('t-6', { attempt: 2 }); // after it finished: not run again
    await new Promise((r) => setTimeout(r, 100));
    expect(ex.started).toHaveLength(1);
  });

  it('a newer attempt supersedes an older one still here, and keeps its GPUs when the old one ends', async () => {
    const ex = new ManualExecutor();
    const runs: string[] = [];
    const agent = makeAgent({
      start: (spec) => {
        runs.push(`${spec.taskId}#${spec.attempt}`);
        return ex.start(spec);
      },
    });
    await agent.start();
    await dispatch('t-17', { attempt: 1 });
    await until(() => fake.events('t-17').includes('STARTED'), 'attempt 1 STARTED');
    const old = ex.runs.get('t-17')!;
    await dispatch('t-17', { attempt: 2 });
    await until(() => runs.length === 2, 'attempt 2 started');
    expect(old.cancelled).toBe('superseded by attempt 2');
    await until(() => fake.reports('t-17').some((r) => r.attempt === 1 && r.event === 'CANCELLED'), 'attempt 1 CANCELLED');
    // Attempt 2 still holds slots 1 and 3.
    await dispatch('t-18', { gpuIndices: [3] });
    await until(() => fake.events('t-18').length === 1, 't-18 refused');
    expect(fake.reports('t-18')[0]).toMatchObject({ event: 'FAILED', reason: expect.stringContaining('still busy') });
    expect(agent.runningTaskIds()).toEqual(['t-17']);
  });

  it('cancel stops a running task and reports CANCELLED', async () => {
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-7');
    await until(() => fake.events('t-7').includes('STARTED'), 'STARTED');
    await queue.add(nodeQueueName('node-a'), CANCEL_JOB, { taskId: 't-7', attempt: 1 });
    await until(() => fake.events('t-7').includes('CANCELLED'), 'CANCELLED');
    expect(ex.runs.get('t-7')!.cancelled).toBe('cancelled');
    expect(fake.events('t-7')).toEqual(['ACCEPTED', 'STARTED', 'CANCELLED']);
  });

  it('a cancel that overtakes its dispatch prevents the run', async () => {
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await queue.add(nodeQueueName('node-a'), CANCEL_JOB, { taskId: 't-8', attempt: 1 });
    await until(() => fake.events('t-8').includes('CANCELLED'), 'CANCELLED');
    await dispatch('t-8');
    await until(() => fake.events('t-8').length === 2, 'second report');
    expect(fake.events('t-8')).toEqual(['CANCELLED', 'CANCELLED']);
    expect(ex.started).toHaveLength(0);
  });

  it('refuses GPUs that are busy or out of range with FAILED', async () => {
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-9', { gpuIndices: [0, 1] });
    await until(() => fake.events('t-9').includes('STARTED'), 'STARTED');
    await dispatch('t-10', { gpuIndices: [1, 2] });
    await dispatch('t-11', { gpuIndices: [4] });
    await until(() => fake.events('t-10').length === 1 && fake.events('t-11').length === 1, 'refusals');
    expect(fake.reports('t-10')[0]).toMatchObject({ event: 'FAILED', reason: 'GPU(s) 1 still busy on node node-a with task(s) t-9' });
    expect(fake.reports('t-11')[0]).toMatchObject({ event: 'FAILED', reason: 'invalid GPU indices [4] for a node with 4 GPUs' });
    expect(ex.started.map((s) => s.taskId)).toEqual(['t-9']);
  });

  it('shares a GPU: shares that fit run side by side with their share passed on; one that does not fit is refused', async () => {
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('s-1', { gpuIndices: [2], gpuMilli: 500, cpuMilli: 2000, memoryMib: 4096 });
    await dispatch('s-2', { gpuIndices: [2], gpuMilli: 300 });
    await until(() => fake.events('s-1').includes('STARTED') && fake.events('s-2').includes('STARTED'), 'both shares STARTED');
    await dispatch('s-3', { gpuIndices: [2], gpuMilli: 300 });
    await until(() => fake.events('s-3').length === 1, 's-3 refused');
    expect(fake.reports('s-3')[0]).toMatchObject({ event: 'FAILED', reason: expect.stringMatching(/^GPU\(s\) 2 still busy on node node-a with task\(s\) s-1,s-2$/) });
    expect(ex.started.find((r) => r.taskId === 's-1')).toMatchObject({ deviceIndices: [6], gpuMilli: 500, cpuMilli: 2000, memoryMib: 4096 });
    expect(ex.started.find((r) => r.taskId === 's-2')).toMatchObject({ deviceIndices: [6], gpuMilli: 300 });
    // Heartbeat utilization follows the share held (800 milli = 80).
    await until(() => fake.heartbeats().at(-1)?.gpuUtilization?.[2] === 80, 'utilization 80 on slot 2');
    ex.runs.get('s-1')!.finish({ kind: 'SUCCEEDED', exitCode: 0 });
    await until(() => fake.events('s-1').includes('SUCCEEDED'), 's-1 done');
    await dispatch('s-4', { gpuIndices: [2], gpuMilli: 700 });
    await until(() => fake.events('s-4').includes('STARTED'), 's-4 fits once s-1 left');
  });

  it('kills a task whose STARTED the scheduler ignores as stale', async () => {
    fake.answer = (s) => (s.body?.event === 'STARTED' ? { taskId: 't-12b', status: 'RUNNING', attempt: 2, ignored: 'stale_attempt' } : { ok: true });
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-12b');
    await until(() => ex.runs.get('t-12b')?.cancelled !== undefined, 'cancelled locally');
    expect(ex.runs.get('t-12b')!.cancelled).toBe('scheduler refused STARTED (ignored: stale_attempt)');
  });

  it('kills a task the scheduler refuses to see STARTED', async () => {
    fake.respond = (s) => (s.body?.event === 'STARTED' ? 409 : 200);
    const ex = new ManualExecutor();
    await makeAgent(ex).start();
    await dispatch('t-12');
    await until(() => ex.runs.get('t-12')?.cancelled !== undefined, 'cancelled locally');
    expect(ex.runs.get('t-12')!.cancelled).toMatch(/scheduler refused STARTED \(rejected with 409/);
  });

  it('registers again when a heartbeat says the node is unknown', async () => {
    let unknown = true;
    fake.respond = (s) => (s.path.endsWith('/heartbeat') && unknown ? ((unknown = false), 404) : 200);
    await makeAgent(new ManualExecutor()).start();
    await until(() => fake.seen.filter((s) => s.path === '/api/v1/gpu/nodes').length === 2, 're-registration');
  });

  it('a simulated-node agent never registers, only heartbeats', async () => {
    await makeAgent(new ManualExecutor(), { register: false }).start();
    await until(() => fake.heartbeats().length >= 1, 'heartbeat');
    expect(fake.seen.some((s) => s.path === '/api/v1/gpu/nodes')).toBe(false);
  });

  it('on stop, terminates running tasks and reports them FAILED "agent stopped"', async () => {
    const ex = new ManualExecutor();
    const agent = makeAgent(ex);
    await agent.start();
    await dispatch('t-13');
    await until(() => fake.events('t-13').includes('STARTED'), 'STARTED');
    await agent.stop({ terminateRunning: true, graceMs: 100, waitMs: 5_000 });
    expect(fake.reports('t-13').at(-1)).toMatchObject({ event: 'FAILED', reason: 'agent stopped' });
  });

  it('end to end with real processes: the command sees CUDA_VISIBLE_DEVICES of its slots', async () => {
    const dir = taskWritableDir('agent-');
    try {
      const ex = new CommandOrSimulatedExecutor(new ProcessRunner({ policy: nodeOnlyPolicy(), killGraceMs: 1000 }), new SimulatedRunner(1000));
      await makeAgent(ex).start();
      const out = join(dir, 'cvd');
      const script = `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.CUDA_VISIBLE_DEVICES + ' ' + process.env.TETRAD_GPU_MILLI)`;
      await dispatch('t-14', { gpuIndices: [0, 2], command: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}` });
      await dispatch('t-15', { gpuIndices: [1], command: `${JSON.stringify(process.execPath)} -e "process.exit(7)"` });
      await dispatch('t-16', { gpuIndices: [3], predictedRuntimeSec: 5 }); // no command: simulated, 5 ms
      await until(() => ['t-14', 't-15', 't-16'].every((t) => fake.events(t).length === 3), 'three finished tasks');
      const marker = join(dir, 'marker');
      await dispatch('t-17', { gpuIndices: [1], command: `/bin/sh -c "touch ${marker}"` }); // not allow-listed
      await until(() => fake.events('t-17').length === 3, 't-17 finished');
      expect(readFileSync(out, 'utf8')).toBe('4,6 1000');
      expect(fake.reports('t-14').at(-1)).toMatchObject({ event: 'SUCCEEDED', exitCode: 0 });
      expect(fake.reports('t-15').at(-1)).toMatchObject({ event: 'FAILED', exitCode: 7, reason: 'exit code 7' });
      expect(fake.reports('t-16').at(-1)).toMatchObject({ event: 'SUCCEEDED', exitCode: 0 });
      expect(fake.reports('t-17').at(-1)).toEqual({
        taskId: 't-17',
        nodeId: expect.any(String),
        attempt: 1,
        event: 'FAILED',
        reason: 'command refused: executable "/bin/sh" is not on the agent\'s allow-list (GPU_AGENT_ALLOWED_COMMANDS)',
      });
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
