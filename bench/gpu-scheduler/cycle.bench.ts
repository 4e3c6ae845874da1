/**
 * One scheduling cycle with 10,000 queued tasks over 1,000 nodes x 8 GPUs.
 *   npx ts-node --transpile-only bench/gpu-scheduler/cycle.bench.ts
 * Then the same with sharing on: nodes with CPU/memory capacities and half-used GPUs, a queue where 40%
 * of tasks ask for a share of one GPU, 5% are CPU-only and all ask CPU/memory; full policy with each scorer.
 * Half the GPUs are held by running tasks (random predicted ends) so the queue does not all fit and the
 * full policy exercises quota ordering, gang placement, a reservation and backfill.
 */
import { bestFit, fragmentationAware, GpuNode, NodeScorer, PolicyName, RunningTask, scheduleCycle, Task, workloadShapes, worstFit } from '../../src/modules/gpu-scheduler/domain';

const NODES = Number(process.env.NODES ?? 1000);
const QUEUE = Number(process.env.QUEUE ?? 10000);
const ITER = Number(process.env.ITER ?? 5);

let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

const nodes: GpuNode[] = [];
const running: RunningTask[] = [];
for (let i = 0; i < NODES; i++) {
  const busy = Math.floor(rnd() * 9); // 0..8 busy GPUs, ~50% overall
  const id = `n${i}`;
  nodes.push({ id, gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, freeGpuIndices: [...Array(8).keys()].slice(busy), status: 'ACTIVE' });
  if (busy > 0) {
    running.push({
      task: { id: `r${i}`, userId: 'r', tier: 'vip', gpuCount: busy, gpuMemoryGb: 0, submittedAt: 0 },
      startedAt: 0,
      allocations: [{ nodeId: id, gpuIndices: [...Array(busy).keys()] }],
      predictedEndAt: 100 + Math.floor(rnd() * 7200),
    });
  }
}
const sizes = [1, 1, 1, 1, 1, 1, 2, 4, 8, 16];
const queue: Task[] = [...Array(QUEUE).keys()].map((i) => ({
  id: `q${i}`,
  userId: `u${i % 100}`,
  tier: rnd() < 0.5 ? 'vip' : 'normal',
  gpuCount: sizes[Math.floor(rnd() * sizes.length)],
  gpuMemoryGb: 40,
  submittedAt: Math.floor(rnd() * 3600),
  estimatedRuntimeSec: 60 + Math.floor(rnd() * 7200),
}));
const now = 3600;
const predictRuntime = (t: Task) => t.estimatedRuntimeSec ?? 3600;

function measure(label: string, state: { nodes: GpuNode[]; queue: Task[]; running: RunningTask[] }, policy: PolicyName, scorer?: NodeScorer): number {
  scheduleCycle(state, now, { policy, predictRuntime, scorer }); // warm-up
  const times: number[] = [];
  let decisions = 0;
  let backfilled = 0;
  for (let i = 0; i < ITER; i++) {
    const t0 = process.hrtime.bigint();
    const r = scheduleCycle(state, now, { policy, predictRuntime, scorer });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    decisions = r.decisions.length;
    backfilled = r.decisions.filter((d) => d.backfilled).length;
  }
  times.sort((a, b) => a - b);
  const med = times[times.length >> 1];
  console.log(
    `${label.padEnd(34)} median ${med.toFixed(1)} ms/cycle (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}), ` +
      `${decisions} decisions (${backfilled} backfilled), ${Math.round(decisions / (med / 1000))} decisions/s`,
  );
  return med;
}

console.log(`cycle bench: ${QUEUE} queued tasks, ${NODES} nodes x 8 GPUs (${nodes.reduce((s, n) => s + n.freeGpuIndices.length, 0)} free), ${ITER} iterations, node ${process.version}`);
const base: Record<string, number> = {};
for (const policy of ['fifo', 'strict-priority', 'full'] as PolicyName[]) base[policy] = measure(policy, { nodes, queue, running }, policy);

// Sharing on: the same cluster with CPU/memory and GPUs half used by shares, the same queue reshaped.
const sNodes: GpuNode[] = nodes.map((n, i) => {
  const used = [...Array(8).keys()].map((g) => (n.freeGpuIndices.includes(g) ? (i % 3 === 0 && g === 7 ? 500 : 0) : 1000));
  return { ...n, gpuUsedMilli: used, freeGpuIndices: n.freeGpuIndices.filter((g) => used[g] === 0), cpuMilli: 96000, memoryMib: 393216, cpuUsedMilli: 4000 * (8 - n.freeGpuIndices.length), memoryUsedMib: 16384 * (8 - n.freeGpuIndices.length) };
});
const sQueue: Task[] = queue.map((t, i) => {
  const r = rnd();
  const shaped: Task = { ...t, cpuMilli: 2000 + 1000 * (i % 8), memoryMib: 8192 * (1 + (i % 4)) };
  if (r < 0.05) return { ...shaped, gpuCount: 0 };
  if (r < 0.45) return { ...shaped, gpuCount: 1, gpuMilli: [100, 250, 500, 700][i % 4] };
  return shaped;
});
const sState = { nodes: sNodes, queue: sQueue, running };
for (const scorer of [worstFit, bestFit, fragmentationAware(workloadShapes(sQueue))]) {
  const med = measure(`full, sharing on, ${scorer.name}`, sState, 'full', scorer);
  console.log(`  ratio to the whole-GPU full-policy baseline in this run: ${(med / base.full).toFixed(2)}x`);
}
