import { seededRandom } from '../../../platform/random/seeded-random';
import { Allocation, ClusterView, GpuNode, gpuMilliOf, MILLI_PER_GPU, NodeScorer, placeGang, takeOnNode, Task, totalGpuMilliOf, usedMilliOf } from '../domain';

/**
 * The FGD paper's evaluation method (Weng et al., USENIX ATC '23, and its open simulator
 * hkust-adsl/kubernetes-scheduler-simulator), re-done on Tetrad's placement core:
 * 1. the trace's pods in a seeded random order; then, while the GPU milli asked by all of them stays
 *    within `ratio` x the cluster's GPU capacity, clones of pods drawn uniformly from the trace are
 *    appended (or, were the trace larger, random pods removed);
 * 2. the pods arrive one by one and are placed at once with `placeGang` or fail; nothing departs;
 * 3. after every arrival the allocated GPU milli and the arrived GPU milli are recorded; the allocation
 *    ratio at an arrived load of X% is the mean allocation over the arrivals whose arrived load rounds to
 *    X% (the paper's analysis script does the same).
 * Difference: the random draws are this simulator's own (a seeded mulberry32, not Go's math/rand), so the
 * sampled workloads differ from the paper's for the same seed. Like the paper's, the appending stops at
 * the first clone whose milli on one GPU would pass the target, so a multi-GPU clone may end a little over it.
 */
export interface InflationOptions {
  /** Arrived GPU load to reach, as a multiple of capacity (1.3 = 130%). */
  ratio: number;
  seed: number;
  scorer: NodeScorer;
  /** Receives every placement (for --export). */
  onPod?: (pod: Task, index: number, allocations: Allocation[] | undefined) => void;
}

export interface InflationResult {
  scorer: string;
  seed: number;
  ratio: number;
  pods: number;
  placed: number;
  failed: number;
  /** Failed pods that asked for GPUs (CPU-only pods that failed are counted in `failed` only). */
  failedGpuPods: number;
  totalGpus: number;
  /** Arrived GPU milli / capacity at the end. */
  arrivedRatio: number;
  /** Allocated GPU milli / capacity at an arrived load of round(ratio x 100)% (0..1). */
  allocationRatio: number;
  /** Allocated GPU milli / capacity after the last arrival. */
  finalAllocationRatio: number;
  /** Allocation ratio (0..1) at each whole arrived percent 0..round(ratio x 100); null where none fell. */
  curve: (number | null)[];
}

/** Step 1: the arrival sequence for one seed. */
export function inflatedArrivals(pods: readonly Task[], capacityMilli: number, ratio: number, seed: number): Task[] {
  const rnd = seededRandom(seed);
  const seq = [...pods];
  for (let i = seq.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [seq[i], seq[j]] = [seq[j], seq[i]];
  }
  const target = ratio * capacityMilli;
  let total = seq.reduce((s, p) => s + totalGpuMilliOf(p), 0);
  while (total > target && seq.length > 0) {
    const [gone] = seq.splice(Math.floor(rnd() * seq.length), 1);
    total -= totalGpuMilliOf(gone);
  }
  for (let i = 0; pods.length > 0; i++) {
    const src = pods[Math.floor(rnd() * pods.length)];
    // as the paper's tuneUpPods: stop at the first clone whose milli on ONE GPU would pass the target
    if (total + (src.gpuCount === 0 ? 0 : gpuMilliOf(src)) > target) break;
    seq.push({ ...src, id: `${src.id}-clone-${i}` });
    total += totalGpuMilliOf(src);
  }
  return seq;
}

/** Steps 2-3 on a copy of `nodes` (all assumed empty and ACTIVE, as in the paper's runs). */
export function inflationRun(nodes: readonly GpuNode[], pods: readonly Task[], opts: InflationOptions): InflationResult {
  const records = nodes.map((n) => ({ ...n, freeGpuIndices: [...n.freeGpuIndices], gpuUsedMilli: usedMilliOf(n) }));
  const byId = new Map(records.map((n) => [n.id, n]));
  const capacity = nodes.reduce((s, n) => s + n.gpuCount, 0) * MILLI_PER_GPU;
  const arrivals = inflatedArrivals(pods, capacity, opts.ratio, opts.seed);
  const view = new ClusterView(records);
  const top = Math.round(opts.ratio * 100);
  const sums = new Array<number>(top + 1).fill(0);
  const counts = new Array<number>(top + 1).fill(0);
  let arrived = 0;
  let used = 0;
  let placed = 0;
  let failedGpuPods = 0;
  arrivals.forEach((pod, i) => {
    arrived += totalGpuMilliOf(pod);
    const allocs = placeGang(pod, view, opts.scorer);
    if (allocs) {
      view.take(allocs);
      // the node records are the check: takeOnNode throws on any GPU, CPU or memory over capacity
      for (const a of allocs) takeOnNode(byId.get(a.nodeId)!, a);
      used += totalGpuMilliOf(pod);
      placed++;
    } else if (pod.gpuCount > 0) failedGpuPods++;
    opts.onPod?.(pod, i, allocs);
    const bucket = Math.round((100 * arrived) / capacity);
    if (bucket <= top) {
      sums[bucket] += used / capacity;
      counts[bucket]++;
    }
  });
  const curve = sums.map((s, i) => (counts[i] ? s / counts[i] : null));
  return {
    scorer: opts.scorer.name,
    seed: opts.seed,
    ratio: opts.ratio,
    pods: arrivals.length,
    placed,
    failed: arrivals.length - placed,
    failedGpuPods,
    totalGpus: capacity / MILLI_PER_GPU,
    arrivedRatio: arrived / capacity,
    allocationRatio: curve[top] ?? used / capacity,
    finalAllocationRatio: used / capacity,
    curve,
  };
}
