/**
 * Scheduling decisions per second through PostgreSQL vs the pure core, in one run.
 *   npx ts-node --transpile-only bench/gpu-scheduler/binding.bench.ts [full|embedded]
 * (full needs PostgreSQL on 127.0.0.1:5432 db `test`, Redis, Kafka: see README "Full profile").
 *
 * 1. submit → bound over HTTP: TASKS tasks POSTed (100 in flight, unique Idempotency-Keys) to an app
 *    running the real scheduling loop; the clock stops when the last one is SCHEDULED. Every task fits
 *    (total GPUs asked ≤ GPUs free), so the figure is binding throughput, not queueing.
 * 2. one cycle, no HTTP: the same load inserted straight into gpu_tasks, then one
 *    SchedulerService.runCycle() (after a warm-up cycle of one task per node, which opens the node
 *    queues as a running scheduler has them) (load + core + version-guarded transactions of GPU_BIND_BATCH
 *    decisions + BullMQ dispatch + outbox) on an app without the loop: with GPU_BIND_BATCH=1 (one
 *    decision per transaction, the old way), 100 (the default) and 400, and with 100 where 40% of the
 *    tasks ask for a share of a GPU (gpuMilli 250/500) plus CPU and memory on nodes that declare them.
 * 3. the pure core: scheduleCycle on the same nodes and queue in memory (no I/O).
 * Node queues are not consumed (ack timeout is set high), so nothing is rolled back mid-run.
 */
import { DataSource } from 'typeorm';
import { SchedulerService } from '../../src/modules/gpu-scheduler';
import { GpuNode, scheduleCycle, Task } from '../../src/modules/gpu-scheduler/domain';
import { http, KEYS, startTestApp, TestApp } from '../../test/support/app';

const profile = process.argv[2] === 'embedded' ? 'embedded' : 'full';
const NODES = Number(process.env.NODES ?? 400);
const TASKS = Number(process.env.TASKS ?? 2000);
const IN_FLIGHT = 100;
const sizes = [1, 1, 1, 1, 2]; // mean 1.2 GPUs: 2,000 tasks need 2,400 of the 3,200 GPUs
const sizeOf = (i: number) => sizes[i % sizes.length];

function fits(): void {
  const need = [...Array(TASKS).keys()].reduce((s, i) => s + sizeOf(i), 0);
  if (need + NODES > NODES * 8) throw new Error(`load needs ${need} GPUs but the cluster has ${NODES * 8}`);
}

const env = (roles: string, bindBatch = 100) => ({
  APP_PROFILE: profile,
  APP_MODULES: 'gpu-scheduler',
  APP_ROLES: roles,
  RATE_LIMIT_PER_SECOND: '0',
  GPU_CYCLE_INTERVAL_MS: '50',
  GPU_ACK_TIMEOUT_MS: '3600000',
  GPU_HEARTBEAT_TIMEOUT_MS: '3600000',
  DATABASE_POOL_SIZE: '20',
  GPU_BIND_BATCH: String(bindBatch),
});

async function registerNodes(t: TestApp, resources = false): Promise<void> {
  const extra = resources ? { cpuMilli: 128_000, memoryMib: 1_048_576 } : {};
  for (let i = 0; i < NODES; i += 25) {
    await Promise.all(
      [...Array(Math.min(25, NODES - i)).keys()].map((k) =>
        http(t.url, 'POST', '/api/v1/gpu/nodes', { key: KEYS.service, body: { id: `b-${i + k}`, gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, ...extra } }),
      ),
    );
  }
}

const body = (i: number) => ({
  userId: `u${i % 50}`,
  tier: i % 3 === 0 ? 'vip' : 'normal',
  gpuType: 'A100',
  gpuCount: sizeOf(i),
  gpuMemoryGb: 40,
  estimatedRuntimeSec: 600,
  model: `m${i % 10}`,
});

async function submitToBound(): Promise<{ secs: number; submitSecs: number; p50: number; p99: number }> {
  const t = await startTestApp(env('api,worker,scheduler'));
  try {
    await registerNodes(t);
    const ds = t.app.get(DataSource);
    const ns = t.config.NAMESPACE;
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      [...Array(IN_FLIGHT).keys()].map(async () => {
        while (next < TASKS) {
          const i = next++;
          const r = await http(t.url, 'POST', '/api/v1/tasks', { key: KEYS.client, body: body(i), headers: { 'idempotency-key': `bench-${i}` } });
          if (r.status !== 202) throw new Error(`submit ${r.status} ${JSON.stringify(r.body)}`);
        }
      }),
    );
    const submitSecs = (Date.now() - t0) / 1000;
    for (;;) {
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM gpu_tasks WHERE namespace = $1 AND status = 'SCHEDULED'`, [ns]);
      if (n >= TASKS) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const secs = (Date.now() - t0) / 1000;
    const [lat] = await ds.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY scheduled_at_ms - queued_at_ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY scheduled_at_ms - queued_at_ms) AS p99
         FROM gpu_tasks WHERE namespace = $1`,
      [ns],
    );
    return { secs, submitSecs, p50: Number(lat.p50), p99: Number(lat.p99) };
  } finally {
    await t.close();
  }
}

/** One cycle over TASKS queued tasks, after a warm-up cycle that put one 1-GPU task on every node. */
async function oneCycle(bindBatch: number, shares: boolean): Promise<{ ms: number; bindMs: number; bound: number; conflicts: number; coldMs: number }> {
  const t = await startTestApp(env('api,worker', bindBatch));
  try {
    await registerNodes(t, shares);
    const ds = t.app.get(DataSource);
    const ns = t.config.NAMESPACE;
    const now = Date.now();
    // With shares: 40% of the tasks (the single-GPU ones with i % 5 < 2) take 250 or 500 milli, all take CPU and memory.
    const enqueue = async (prefix: string, n: number, warm: boolean) => {
      await ds.query(
        `INSERT INTO gpu_tasks (id, namespace, user_id, tier, gpu_type, gpu_count, gpu_memory_gb, estimated_runtime_sec, model, status, queued_at_ms,
                                predicted_runtime_sec, gpu_milli, cpu_milli, memory_mib)
         SELECT $1 || $5 || lpad(i::text, 8, '0'), $1, 'u' || (i % 50), CASE WHEN i % 3 = 0 THEN 'vip' ELSE 'normal' END, 'A100',
                CASE WHEN i % 5 = 4 AND NOT $6 THEN 2 ELSE 1 END, 40, 600, 'm' || (i % 10), 'QUEUED', $2::bigint + i, 600,
                CASE WHEN $4 AND i % 5 < 2 AND NOT $6 THEN 250 * (1 + i % 2) END, CASE WHEN $4 THEN 4000 END, CASE WHEN $4 THEN 16384 END
           FROM generate_series(0, $3 - 1) AS i`,
        [ns, now - TASKS, n, shares, prefix, warm],
      );
      // Planner statistics as autovacuum keeps them in a running system (freshly bulk-inserted rows have none yet).
      await ds.query(`ANALYZE gpu_tasks`);
    };
    const scheduler = t.app.get(SchedulerService);
    // Warm-up: NODES 1-GPU tasks, spread one per node by worst-fit, so each node's dispatch queue (a
    // Redis connection and BullMQ's scripts) is opened once, as in a scheduler that has been running.
    await enqueue('-w', NODES, true);
    const c0 = process.hrtime.bigint();
    await scheduler.runCycle();
    const coldMs = Number(process.hrtime.bigint() - c0) / 1e6;
    await enqueue('-', TASKS, false);
    const t0 = process.hrtime.bigint();
    const r = await scheduler.runCycle();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, bindMs: r.bindMs, bound: r.bound, conflicts: r.conflicts, coldMs };
  } finally {
    await t.close();
  }
}

function pureCore(): { ms: number; decisions: number } {
  const nodes: GpuNode[] = [...Array(NODES).keys()].map((i) => ({
    id: `b-${i}`,
    gpuType: 'A100',
    gpuCount: 8,
    gpuMemoryGb: 80,
    freeGpuIndices: [...Array(8).keys()],
    status: 'ACTIVE',
  }));
  const now = Date.now() / 1000;
  const queue: Task[] = [...Array(TASKS).keys()].map((i) => ({ id: `q${i}`, ...body(i), tier: body(i).tier as 'vip' | 'normal', submittedAt: now - TASKS + i }));
  const opts = { policy: 'full' as const, predictRuntime: () => 600 };
  scheduleCycle({ nodes, queue, running: [] }, now, opts);
  const times: number[] = [];
  let decisions = 0;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    decisions = scheduleCycle({ nodes, queue, running: [] }, now, opts).decisions.length;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { ms: times[2], decisions };
}

async function main(): Promise<void> {
  fits();
  console.log(`binding bench (${profile}): ${TASKS} tasks of 1-2 GPUs onto ${NODES} nodes x 8 GPUs, node ${process.version}`);
  const core = pureCore();
  const coreRate = core.decisions / (core.ms / 1000);
  console.log(`pure core (scheduleCycle, full policy): ${core.ms.toFixed(1)} ms for ${core.decisions} decisions = ${Math.round(coreRate)} decisions/s`);
  for (const [batch, shares] of [[1, false], [100, false], [100, true], [400, false]] as const) {
    const cyc = await oneCycle(batch, shares);
    const cycRate = cyc.bound / (cyc.ms / 1000);
    const bindRate = cyc.bound / (cyc.bindMs / 1000);
    console.log(
      `one runCycle through ${profile === 'full' ? 'PostgreSQL + BullMQ' : 'PGlite + in-process queue'}, GPU_BIND_BATCH=${batch}${shares ? ', 40% shares + CPU/memory' : ''}: ` +
        `${cyc.ms.toFixed(0)} ms, ${cyc.bound} bound, ${cyc.conflicts} conflicts = ${Math.round(cycRate)} decisions/s (${(cycRate / coreRate).toFixed(4)} of the core); ` +
        `bind + dispatch phase alone ${cyc.bindMs.toFixed(0)} ms = ${Math.round(bindRate)} decisions/s (${(bindRate / coreRate).toFixed(4)} of the core); ` +
        `warm-up cycle (${NODES} tasks, one per node, opening the node queues) ${cyc.coldMs.toFixed(0)} ms`,
    );
  }
  const e2e = await submitToBound();
  const e2eRate = TASKS / e2e.secs;
  console.log(
    `HTTP submit → bound (loop running): ${e2e.secs.toFixed(1)} s for ${TASKS} (submits done at ${e2e.submitSecs.toFixed(1)} s) = ` +
      `${Math.round(e2eRate)} tasks/s (${(e2eRate / coreRate).toFixed(4)} of the core); queued→scheduled p50 ${e2e.p50.toFixed(0)} ms, p99 ${e2e.p99.toFixed(0)} ms`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
