import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedAgents } from '../../src/modules/gpu-scheduler/agent/simulated-agents';
import { Infrastructure } from '../../src/platform/infrastructure';
import { http, KEYS, startTestApp, TestApp } from '../support/app';
import { alive } from '../support/processes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Closes a test app, bounded like main.ts bounds a SIGTERM (SHUTDOWN_TIMEOUT_MS, then forced exit).
 * The simulated-nodes apps used to take 20-70 s to close now and then: a simulated agent's heartbeat
 * or report to its own server was in flight when the server closed, was answered with keep-alive, and
 * the connection held the close until the keep-alive timeout (72 s). Responses sent while closing say
 * `Connection: close` now (createApp, src/app.ts; test/e2e/lifecycle.test.ts). The bound stays as a
 * safety net: if a close hangs again, the test says so and closes the connections itself instead of
 * timing out the hook.
 */
async function closeApp(app: TestApp | undefined): Promise<void> {
  if (!app) return;
  const infra = app.app.get(Infrastructure);
  const closed = app.close().then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([closed, new Promise<false>((r) => (timer = setTimeout(() => r(false), 20_000)))]);
  clearTimeout(timer);
  // A plain line, not console.warn: the fallback is known and bounded (above), and Jest would print a
  // code frame with it that reads like a failure in a green run.
  if (!inTime) process.stderr.write('gpu-agents: app.close() did not finish within 20 s; closed its connections directly\n');
  await infra.close();
}

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

async function untilOr<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000, logs = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await probe();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}\n${logs()}`);
    await sleep(100);
    v = await probe();
  }
  return v;
}

let seq = 0;
async function submitTo(base: string, body: Record<string, unknown>): Promise<string> {
  const r = await http(base, 'POST', '/api/v1/tasks', {
    key: KEYS.service, // only service/admin keys may set a command
    body: { userId: 'u1', tier: 'normal', gpuMemoryGb: 16, ...body },
    headers: { 'idempotency-key': `agents-${Date.now()}-${++seq}` },
  });
  if (r.status !== 202) throw new Error(`submit ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.taskId as string;
}

/**
 * Real agent processes (`APP_ROLES=agent`, src/main.ts) against a scheduler app (api, worker,
 * scheduler) on the full profile: the node queues are BullMQ on the shared Redis, reports and
 * heartbeats go over HTTP. Agent A finds "GPUs" through a fake nvidia-smi first on its PATH (an
 * RTX 4090 plus four A100s, so A100 slots 0..3 are devices 1..4); agent B has no nvidia-smi and
 * offers simulated L4s. Tasks are real child processes that record what they were given.
 */
describe('gpu agents (real agent processes, full profile)', () => {
  const root = join(__dirname, '../..');
  const dir = mkdtempSync(join(tmpdir(), 'gpu-agents-'));
  const smiDir = join(dir, 'bin-a');
  const emptyDir = join(dir, 'bin-b');
  const outDir = join(dir, 'out');
  const taskScript = join(dir, 'task.js');
  let t: TestApp;
  const agents = new Map<string, { proc: ChildProcess; output: string[] }>();
  let ghostBeat: NodeJS.Timeout | undefined;

  const service = (method: string, path: string, body?: unknown) => http(t.url, method, path, { key: KEYS.service, body });
  const task = async (id: string) => (await http(t.url, 'GET', `/api/v1/tasks/${id}`, { key: KEYS.client })).body;
  const nodeView = async (id: string) => (await service('GET', `/api/v1/gpu/nodes/${id}`)).body;
  const submit = (body: Record<string, unknown>) => submitTo(t.url, body);
  /** A task command: records its env and pid, sleeps `ms` (`retryMs` on a later attempt), exits with `code`. Shell-free. */
  const command = (ms: number, code = 0, retryMs?: number) =>
    `"${process.execPath}" "${taskScript}" "${outDir}" ${ms} ${code}${retryMs === undefined ? '' : ` ${retryMs}`}`;
  const records = (taskId: string) =>
    readdirSync(outDir)
      .filter((f) => f.startsWith(`${taskId}.`))
      .map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')) as { cvd: string; pid: number; uid: number; attempt: number });

  const agentLogs = () => [...agents].map(([id, a]) => `--- ${id}:\n${a.output.join('').slice(-3000)}`).join('\n');
  const until = <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000) =>
    untilOr(what, probe, ok, timeoutMs, agentLogs);
  const settled = (id: string) => until(`${id} finished`, () => task(id), (v) => TERMINAL.includes(v.status));

  function startAgent(nodeId: string, env: Record<string, string>): void {
    const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, 'src/main.ts')], {
      cwd: root,
      env: {
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        APP_PROFILE: 'full',
        APP_ROLES: 'agent',
        APP_MODULES: 'gpu-scheduler',
        NAMESPACE: t.config.NAMESPACE,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DATABASE_URL: t.config.DATABASE_URL,
        REDIS_URL: t.config.REDIS_URL,
        KAFKA_BROKERS: t.config.KAFKA_BROKERS.join(','),
        KAFKA_PARTITIONS: '3',
        API_KEYS: `admin:${KEYS.admin},service:${KEYS.service},client:${KEYS.client}`,
        GPU_AGENT_NODE_ID: nodeId,
        GPU_AGENT_SCHEDULER_URL: t.url,
        GPU_AGENT_API_KEY: KEYS.service,
        GPU_AGENT_HEARTBEAT_MS: '300',
        GPU_AGENT_KILL_GRACE_MS: '500',
        // Only this Node binary may run, as nobody when the test (so the agent) is root.
        GPU_AGENT_ALLOWED_COMMANDS: process.execPath,
        GPU_AGENT_RUN_AS_USER: process.getuid?.() === 0 ? 'nobody' : '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (d: Buffer) => {
      output.push(d.toString());
      if (output.length > 200) output.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    agents.set(nodeId, { proc, output });
  }

  const killAgent = (nodeId: string) =>
    new Promise<void>((resolve) => {
      const a = agents.get(nodeId)!;
      if (a.proc.exitCode !== null || a.proc.signalCode !== null) return resolve();
      a.proc.once('exit', () => resolve());
      a.proc.kill('SIGKILL');
    });

  beforeAll(async () => {
    for (const d of [smiDir, emptyDir, outDir]) mkdirSync(d);
    // Task commands run as an unprivileged user: it must reach the script and write its records.
    chmodSync(dir, 0o755);
    chmodSync(outDir, 0o777);
    writeFileSync(
      join(smiDir, 'nvidia-smi'),
      [
        '#!/bin/sh',
        'echo "0, NVIDIA GeForce RTX 4090, 24564, 3"',
        'for i in 1 2 3 4; do echo "$i, NVIDIA A100-SXM4-80GB, 81920, 50"; done',
      ].join('\n') + '\n',
    );
    chmodSync(join(smiDir, 'nvidia-smi'), 0o755);
    writeFileSync(
      taskScript,
      `const fs = require('fs');
const [dir, ms, code, retryMs] = process.argv.slice(2);
const id = process.env.TETRAD_TASK_ID;
// A later attempt of the same task (one before it left a record) sleeps retryMs instead.
const retry = retryMs !== undefined && fs.readdirSync(dir).some((f) => f.startsWith(id + '.'));
fs.writeFileSync(dir + '/' + id + '.' + process.env.TETRAD_TASK_ATTEMPT,
  JSON.stringify({ cvd: process.env.CUDA_VISIBLE_DEVICES, pid: process.pid, uid: process.getuid(), attempt: Number(process.env.TETRAD_TASK_ATTEMPT) }));
setTimeout(() => process.exit(Number(code)), Number(retry ? retryMs : ms));
`,
    );
    t = await startTestApp({
      APP_PROFILE: 'full',
      APP_MODULES: 'gpu-scheduler',
      RATE_LIMIT_PER_SECOND: '0',
      GPU_CYCLE_INTERVAL_MS: '200',
      GPU_ACK_TIMEOUT_MS: '3000',
      GPU_HEARTBEAT_TIMEOUT_MS: '5000', // wide margin: a loaded 2-core box must not fail a live agent
    });
    startAgent('agent-a', { PATH: `${smiDir}:/usr/bin:/bin` });
    // No nvidia-smi anywhere on B's PATH: it must fall back to its simulated spec.
    startAgent('agent-b', { PATH: emptyDir, GPU_AGENT_SIMULATED_GPUS: 'L4x2:24', GPU_AGENT_TIME_SCALE: '10' });
    await Promise.all(
      ['agent-a', 'agent-b'].map((id) => until(`${id} registered`, () => nodeView(id), (v) => v?.status === 'ACTIVE', 90_000)),
    );
  }, 120_000);

  afterAll(async () => {
    if (ghostBeat) clearInterval(ghostBeat);
    for (const id of agents.keys()) await killAgent(id);
    // Tasks of a SIGKILLed agent outlive it (own process groups); do not leave them behind.
    for (const f of readdirSync(outDir)) {
      try {
        process.kill(-JSON.parse(readFileSync(join(outDir, f), 'utf8')).pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await closeApp(t);
    rmSync(dir, { recursive: true, force: true });
    // The agents' pid-file directories (see TaskPidFiles).
    for (const id of agents.keys()) rmSync(join(tmpdir(), `tetrad-gpu-agent-${t?.config.NAMESPACE}-${id}`), { recursive: true, force: true });
  });

  it('registers what each agent discovered: nvidia-smi GPUs of the majority type, or the simulated spec', async () => {
    expect(await nodeView('agent-a')).toMatchObject({
      gpuType: 'A100',
      gpuCount: 4,
      gpuMemoryGb: 80,
      simulated: false,
      labels: { gpus: 'nvidia-smi' },
    });
    expect(await nodeView('agent-b')).toMatchObject({ gpuType: 'L4', gpuCount: 2, gpuMemoryGb: 24, simulated: false, labels: { gpus: 'simulated' } });
    // Heartbeats carry nvidia-smi's per-GPU utilization (of the four A100 devices only).
    // Registration comes before the first heartbeat, so wait for one rather than read once.
    const utilization = await until(
      'agent-a heartbeat with utilization',
      async () => (await http(t.url, 'GET', '/api/v1/gpu/cluster', { key: KEYS.client })).body.nodes.find((n: { id: string }) => n.id === 'agent-a')?.gpuUtilization,
      (u) => Array.isArray(u),
    );
    expect(utilization).toEqual([50, 50, 50, 50]);
  });

  it('runs tasks as processes on their placement, reports exit codes, and frees the GPUs', async () => {
    const a1 = await submit({ gpuType: 'A100', gpuCount: 2, command: command(300) });
    const a2 = await submit({ gpuType: 'A100', gpuCount: 2, command: command(300) });
    const bad = await submit({ gpuType: 'L4', gpuCount: 1, command: command(0, 3) });
    const sim = await submit({ gpuType: 'L4', gpuCount: 1, estimatedRuntimeSec: 1 }); // no command: simulated, 1 s / 10

    for (const id of [a1, a2]) {
      const v = await settled(id);
      expect(v).toMatchObject({ status: 'SUCCEEDED', exitCode: 0 });
      expect(v.placement).toHaveLength(1);
      expect(v.placement[0].nodeId).toBe('agent-a');
      // Scheduler slots 0..3 are devices 1..4 (device 0 is the hidden RTX 4090).
      const [rec] = records(id);
      expect(rec.cvd).toBe(v.placement[0].gpuIndices.map((i: number) => i + 1).join(','));
      expect(rec.uid).not.toBe(0); // never as root
    }
    expect(await settled(bad)).toMatchObject({ status: 'FAILED', exitCode: 3, reason: 'exit code 3' });
    expect(await settled(sim)).toMatchObject({ status: 'SUCCEEDED', exitCode: 0 });
    expect(records(sim)).toHaveLength(0);

    await until('all GPUs free', async () => [(await nodeView('agent-a')).freeGpuIndices, (await nodeView('agent-b')).freeGpuIndices], (v) => v[0].length === 4 && v[1].length === 2);
  }, 60_000);

  it('runs only allow-listed commands, never through a shell: others fail with the reason and nothing runs', async () => {
    const marker = join(outDir, 'marker');
    const notListed = await submit({ gpuType: 'L4', gpuCount: 1, command: `/bin/sh -c "touch ${marker}"` });
    const shellSyntax = await submit({ gpuType: 'L4', gpuCount: 1, command: `${command(0)}; touch ${marker}` });
    expect(await settled(notListed)).toMatchObject({
      status: 'FAILED',
      reason: `command refused: executable "/bin/sh" is not on the agent's allow-list (GPU_AGENT_ALLOWED_COMMANDS)`,
    });
    expect(await settled(shellSyntax)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^command refused: shell syntax .* is not interpreted/) });
    expect(records(shellSyntax)).toHaveLength(0);
    expect(readdirSync(outDir)).not.toContain('marker');
  }, 60_000);

  it('cancel stops a running task process', async () => {
    const id = await submit({ gpuType: 'A100', gpuCount: 1, command: command(60_000) });
    await until(`${id} running`, () => task(id), (v) => v.status === 'RUNNING' && records(id).length === 1);
    const del = await http(t.url, 'DELETE', `/api/v1/tasks/${id}`, { key: KEYS.client });
    expect(del.status).toBe(202);
    expect(await settled(id)).toMatchObject({ status: 'CANCELLED' });
    const { pid } = records(id)[0];
    await until(`process ${pid} gone`, async () => alive(pid), (a) => !a);
  }, 60_000);

  it('an agent killed mid-task: node UNHEALTHY, fail-policy task FAILED, requeue-policy task runs again when the agent is back', async () => {
    // First attempts outlive the test (the agent dies under them); the requeued retry is short.
    const failing = await submit({ gpuType: 'L4', gpuCount: 1, command: command(60_000), onNodeFailure: 'fail' });
    const requeued = await submit({ gpuType: 'L4', gpuCount: 1, command: command(60_000, 0, 300), onNodeFailure: 'requeue' });
    for (const id of [failing, requeued]) await until(`${id} running`, () => task(id), (v) => v.status === 'RUNNING' && records(id).length === 1);
    const firstAttempt = (await task(requeued)).attempt;

    await killAgent('agent-b');
    await until('agent-b UNHEALTHY', () => nodeView('agent-b'), (v) => v.status === 'UNHEALTHY');
    expect(await settled(failing)).toMatchObject({ status: 'FAILED' });
    const back = await until(`${requeued} requeued`, () => task(requeued), (v) => v.status === 'QUEUED');
    expect(back.placement).toEqual([]);

    // The killed agent's task processes outlive it (own process groups)...
    const orphans = [...records(failing), ...records(requeued)].map((r) => r.pid);
    expect(orphans.filter(alive)).toHaveLength(2);

    // The same node id registering again is how an agent comes back; it first kills those orphans.
    startAgent('agent-b', { PATH: emptyDir, GPU_AGENT_SIMULATED_GPUS: 'L4x2:24' });
    await until('orphans of the killed agent reaped', async () => orphans.filter(alive), (left) => left.length === 0, 90_000);
    const done = await until(`${requeued} done on the restarted agent`, () => task(requeued), (v) => v.status === 'SUCCEEDED', 90_000);
    expect(done.attempt).toBeGreaterThan(firstAttempt);
    expect(done.placement[0].nodeId).toBe('agent-b');
    expect(records(requeued).map((r) => r.attempt)).toEqual(expect.arrayContaining([firstAttempt, done.attempt]));
  }, 120_000);

  it('an agent with neither nvidia-smi nor a simulated spec refuses to start', async () => {
    startAgent('agent-none', { PATH: emptyDir });
    const { proc, output } = agents.get('agent-none')!;
    const code = await new Promise<number | null>((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', resolve)));
    expect(code).not.toBe(0);
    expect(output.join('')).toContain('no nvidia-smi on PATH and GPU_AGENT_SIMULATED_GPUS is empty');
    expect((await service('GET', '/api/v1/gpu/nodes/agent-none')).status).toBe(404);
  }, 60_000);

  it('a dispatch no agent acknowledges is rolled back and the task returns to the queue', async () => {
    // A node whose "agent" heartbeats but never consumes its queue.
    expect((await service('POST', '/api/v1/gpu/nodes', { id: 'ghost', gpuType: 'H100', gpuCount: 2, gpuMemoryGb: 80 })).status).toBe(200);
    ghostBeat = setInterval(() => void service('POST', '/api/v1/gpu/nodes/ghost/heartbeat', {}).catch(() => undefined), 300);
    const id = await submit({ gpuType: 'H100', gpuCount: 1, command: command(100) });
    await until(`${id} bound`, () => task(id), (v) => v.status === 'SCHEDULED');
    const first = (await task(id)).attempt;
    // Rolled back at the ack deadline and bound again: a later attempt, never RUNNING.
    const later = await until(`${id} rebound`, () => task(id), (v) => v.attempt > first, 20_000);
    expect(['QUEUED', 'SCHEDULED']).toContain(later.status);
    // Take the node out: the next rollback leaves the task queued, its GPUs back in the node's pool.
    await service('PATCH', '/api/v1/gpu/nodes/ghost', { status: 'MAINTENANCE' });
    const queued = await until(`${id} queued`, () => task(id), (v) => v.status === 'QUEUED', 20_000);
    expect(queued.placement).toEqual([]);
    await until('ghost GPUs free', () => nodeView('ghost'), (v) => v.freeGpuIndices.length === 2);
    expect(records(id)).toHaveLength(0);
  }, 60_000);
  it('a partitioned agent: its node turns UNHEALTHY, and when it is back the scheduler has it stop the failed task', async () => {
    const id = await submit({ gpuType: 'A100', gpuCount: 1, command: command(60_000), onNodeFailure: 'fail' });
    await until(`${id} running`, () => task(id), (v) => v.status === 'RUNNING' && records(id).length === 1);
    const { pid } = records(id)[0];
    const agent = agents.get('agent-a')!.proc;
    agent.kill('SIGSTOP'); // no heartbeats, no reports — but its task process runs on
    try {
      await until('agent-a UNHEALTHY', () => nodeView('agent-a'), (v) => v.status === 'UNHEALTHY');
      expect(await settled(id)).toMatchObject({ status: 'FAILED' });
      expect(alive(pid)).toBe(true);
    } finally {
      agent.kill('SIGCONT');
    }
    // Its heartbeat lists the task again; the scheduler answers with a cancel, and the agent kills it.
    await until('agent-a ACTIVE again', () => nodeView('agent-a'), (v) => v.status === 'ACTIVE');
    await until(`orphan ${pid} stopped`, async () => alive(pid), (a) => !a);
    expect((await task(id)).status).toBe('FAILED');
    await until('agent-a GPUs free', () => nodeView('agent-a'), (v) => v.freeGpuIndices.length === 4);
  }, 60_000);
});

/**
 * `"simulated": true` nodes are served by the built-in simulated agent of a worker process, through
 * the same node queue, ACCEPTED/STARTED/final reports over HTTP, and heartbeats as a real agent.
 */
describe('built-in simulated nodes (embedded profile)', () => {
  let t: TestApp;
  const task = async (id: string) => (await http(t.url, 'GET', `/api/v1/tasks/${id}`, { key: KEYS.client })).body;
  const nodeView = async (id: string) => (await http(t.url, 'GET', `/api/v1/gpu/nodes/${id}`, { key: KEYS.service })).body;
  const settled = (id: string) => untilOr(`${id} finished`, () => task(id), (v) => TERMINAL.includes(v.status));

  beforeAll(async () => {
    t = await startTestApp({
      APP_MODULES: 'gpu-scheduler',
      RATE_LIMIT_PER_SECOND: '0',
      GPU_CYCLE_INTERVAL_MS: '100',
      GPU_HEARTBEAT_TIMEOUT_MS: '5000',
      GPU_AGENT_HEARTBEAT_MS: '200',
      GPU_AGENT_TIME_SCALE: '20',
    });
    const r = await http(t.url, 'POST', '/api/v1/gpu/nodes', {
      key: KEYS.service,
      body: { id: 'sim-1', gpuType: 'A100', gpuCount: 4, gpuMemoryGb: 80, simulated: true },
    });
    expect(r.status).toBe(200);
  });
  afterAll(() => closeApp(t));

  it('runs tasks for their predicted runtime (time-scaled), never their command, and frees the GPUs', async () => {
    const ids = [
      await submitTo(t.url, { gpuType: 'A100', gpuCount: 2, estimatedRuntimeSec: 2 }),
      await submitTo(t.url, { gpuType: 'A100', gpuCount: 2, estimatedRuntimeSec: 2 }),
      await submitTo(t.url, { gpuType: 'A100', gpuCount: 1, estimatedRuntimeSec: 1, command: '/bin/false' }),
    ];
    for (const id of ids) {
      const v = await settled(id);
      expect(v).toMatchObject({ status: 'SUCCEEDED', exitCode: 0 });
      expect(v.placement[0].nodeId).toBe('sim-1');
      expect(Date.parse(v.finishedAt)).toBeGreaterThanOrEqual(Date.parse(v.startedAt));
    }
    await untilOr('GPUs free', () => nodeView('sim-1'), (v) => v.freeGpuIndices.length === 4);
    // The reports came over HTTP, through the same route a remote agent uses.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/gpu\/tasks\/:taskId\/report",status="200"\} [1-9]/);
  });

  it('heartbeats keep the node healthy', async () => {
    const before = (await nodeView('sim-1')).lastHeartbeatAt;
    const later = await untilOr('a newer heartbeat', () => nodeView('sim-1'), (v) => v.lastHeartbeatAt > before);
    expect(later.status).toBe('ACTIVE');
    const cluster = (await http(t.url, 'GET', '/api/v1/gpu/cluster', { key: KEYS.client })).body;
    expect(cluster.nodes.find((n: { id: string }) => n.id === 'sim-1').gpuUtilization).toEqual([0, 0, 0, 0]);
  });

  it('cancel stops a simulated run', async () => {
    const id = await submitTo(t.url, { gpuType: 'A100', gpuCount: 4, estimatedRuntimeSec: 36_000 });
    await untilOr(`${id} running`, () => task(id), (v) => v.status === 'RUNNING');
    const cluster = (await http(t.url, 'GET', '/api/v1/gpu/cluster', { key: KEYS.client })).body;
    expect(cluster.nodes.find((n: { id: string }) => n.id === 'sim-1').used).toBe(4);
    expect((await http(t.url, 'DELETE', `/api/v1/tasks/${id}`, { key: KEYS.client })).status).toBe(202);
    expect(await settled(id)).toMatchObject({ status: 'CANCELLED' });
    await untilOr('GPUs free', () => nodeView('sim-1'), (v) => v.freeGpuIndices.length === 4);
  });
});

/** Two worker processes (two apps on one namespace): one host per simulated node, and failover. */
describe('simulated nodes across two workers (full profile)', () => {
  const namespace = `t-sim-${Math.random().toString(16).slice(2, 10)}`;
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  const env = {
    APP_PROFILE: 'full',
    APP_MODULES: 'gpu-scheduler',
    NAMESPACE: namespace,
    RATE_LIMIT_PER_SECOND: '0',
    GPU_CYCLE_INTERVAL_MS: '200',
    GPU_AGENT_HEARTBEAT_MS: '200',
    GPU_AGENT_TIME_SCALE: '20',
  };
  const hosted = (app: TestApp | undefined) => (app ? [...(app.app.get(SimulatedAgents) as unknown as { hosted: Map<string, unknown> }).hosted.keys()].sort() : []);

  beforeAll(async () => {
    a = await startTestApp(env);
    b = await startTestApp(env);
  });
  afterAll(async () => {
    await closeApp(a);
    await closeApp(b);
  });

  it('serves each simulated node from exactly one worker, and another takes over when it goes', async () => {
    const ids = ['sim-a', 'sim-b', 'sim-c'];
    for (const id of ids) {
      const r = await http(a!.url, 'POST', '/api/v1/gpu/nodes', { key: KEYS.service, body: { id, gpuType: 'L4', gpuCount: 1, gpuMemoryGb: 24, simulated: true } });
      expect(r.status).toBe(200);
    }
    await untilOr('every node hosted once', async () => [hosted(a), hosted(b)], ([x, y]) => [...x, ...y].sort().join() === ids.join());
    // Let both reconcile a few more times: the split must stay disjoint.
    await sleep(600);
    expect([...hosted(a), ...hosted(b)].sort()).toEqual(ids);

    const [gone, stays] = hosted(a).length > 0 ? [a!, b!] : [b!, a!];
    await closeApp(gone);
    if (gone === a) a = undefined;
    else b = undefined;
    await untilOr('the other worker serves them all', async () => hosted(stays), (h) => h.join() === ids.join());

    // And they work: three 1-GPU tasks need all three nodes.
    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push(await submitTo(stays.url, { gpuType: 'L4', gpuCount: 1, estimatedRuntimeSec: 1 }));
    for (const id of tasks) {
      const v = await untilOr(`${id} done`, async () => (await http(stays.url, 'GET', `/api/v1/tasks/${id}`, { key: KEYS.client })).body, (x) => TERMINAL.includes(x.status));
      expect(v.status).toBe('SUCCEEDED');
    }
  }, 60_000);
});
