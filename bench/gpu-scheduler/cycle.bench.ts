/**
 * One scheduling cycle with 10,000 queued tasks over 1,000 nodes x 8 GPUs.
 *   npx ts-node --transpile-only bench/gpu-scheduler/cycle.bench.ts
 * Half the GPUs are held by running tasks (random predicted ends) so the queue does not all fit and the
 * full policy exercises quota ordering, gang placement, a reservation and backfill.
 */
import { GpuNode, PolicyName, RunningTask, scheduleCycle, Task } from '../../src/modules/gpu-scheduler/domain';

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

console.log(`cycle bench: ${QUEUE} queued tasks, ${NODES} nodes x 8 GPUs (${nodes.reduce((s, n) => s + n.freeGpuIndices.length, 0)} free), ${ITER} iterations, node ${process.version}`);
for (const policy of ['fifo', 'strict-priority', 'full'] as PolicyName[]) {
  scheduleCycle({ nodes, queue, running }, now, { policy, predictRuntime }); // warm-up
  const times: number[] = [];
  let decisions = 0;
  let backfilled = 0;
  for (let i = 0; i < ITER; i++) {
    const t0 = process.hrtime.bigint();
    const r = scheduleCycle({ nodes, queue, running }, now, { policy, predictRuntime });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    decisions = r.decisions.length;
    backfilled = r.decisions.filter((d) => d.backfilled).length;
  }
  times.sort((a, b) => a - b);
  const med = times[times.length >> 1];
  console.log(
    `${policy.padEnd(16)} median ${med.toFixed(1)} ms/cycle (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}), ` +
      `${decisions} decisions (${backfilled} backfilled), ${Math.round(decisions / (med / 1000))} decisions/s`,
  );
}
