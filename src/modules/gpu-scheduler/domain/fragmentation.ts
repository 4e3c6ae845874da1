import { NodeScorer, ViewNode } from './placement';
import { anyType, gpuMilliOf, MILLI_PER_GPU, Task } from './model';

/**
 * Fragmentation-aware placement, implemented from the description in Weng et al., "Beware of
 * Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC '23
 * (FGD). The idea, in the paper's terms:
 * - The fragmentation of a node is measured against the target workload: the distribution of task
 *   shapes (GPUs, milli per GPU, CPU, GPU type) expected to arrive, each with its popularity p_m.
 * - For one task shape m, the node's free GPU milli that m could never use is fragment: all of it when m
 *   cannot be placed on the node at all (wrong GPU type, too few GPUs with enough free milli, too little
 *   CPU or memory), otherwise the free milli on the GPUs whose free share is below m's per-GPU ask.
 * - The node's expected fragmentation is F_n = sum_m p_m * F_n(m).
 * - A task goes where the increase of expected fragmentation, F_n(after) - F_n(before) (the
 *   "fragmentation gradient"), is smallest, choosing the GPU(s) on the node the same way.
 * The paper's Kubernetes plugin scores floor(100 x sigmoid(-gradient / 1000)), so most candidates tie;
 * its simulator gives a tie to the lowest node name. How ties are broken decides much: see
 * FragmentationOptions.
 */
export interface WorkloadShape {
  gpuCount: number;
  gpuMilli: number;
  cpuMilli: number;
  memoryMib: number;
  /** Allowed GPU types; undefined = any. */
  gpuTypes?: string[];
  /** Popularity among the tasks the distribution was built from (the shapes kept sum to 1). */
  weight: number;
}

/**
 * The target workload's distribution of task shapes, from a sample of tasks (a trace, or the recent
 * queue), as the paper's simulator builds its "typical pods": shapes grouped by (GPUs, milli, CPU, GPU
 * type), the most popular ones covering `coverage` of the tasks kept, weighted by their share of the
 * tasks. CPU-only tasks are a shape too (its `isInvolvedCpuPods` default): no GPU milli is usable
 * by them. `memoryMib` is not part of the grouping (nor of the paper's).
 */
export function workloadShapes(tasks: readonly Pick<Task, 'gpuCount' | 'gpuMilli' | 'cpuMilli' | 'gpuType'>[], coverage = 0.95): WorkloadShape[] {
  const counts = new Map<string, { shape: WorkloadShape; n: number }>();
  let total = 0;
  for (const t of tasks) {
    total++;
    const milli = t.gpuCount === 0 ? 0 : gpuMilliOf(t);
    const types = t.gpuCount === 0 || anyType(t as Task) ? undefined : t.gpuType!.split('|').sort();
    const key = `${t.gpuCount}|${milli}|${t.cpuMilli ?? 0}|${types?.join('|') ?? '*'}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { n: 1, shape: { gpuCount: t.gpuCount, gpuMilli: milli, cpuMilli: t.cpuMilli ?? 0, memoryMib: 0, gpuTypes: types, weight: 0 } });
  }
  const kept: { shape: WorkloadShape; n: number }[] = [];
  let covered = 0;
  for (const c of [...counts.values()].sort((a, b) => b.n - a.n)) {
    if (covered >= coverage * total) break;
    kept.push(c);
    covered += c.n;
  }
  return kept.map((c) => ({ ...c.shape, weight: c.n / covered }));
}

/** Free milli per GPU (sorted descending), CPU and memory left on a node: what fragmentation depends on. */
interface NodeFree {
  gpuType: string;
  free: number[];
  cpu: number;
  mem: number;
}

/** F_n: expected free GPU milli on the node that a task drawn from `shapes` could not use. */
export function nodeFragmentation(n: NodeFree, shapes: readonly WorkloadShape[]): number {
  let total = 0;
  for (const f of n.free) total += f;
  if (total === 0) return 0;
  let frag = 0;
  for (const s of shapes) {
    if (s.gpuTypes && !s.gpuTypes.includes(n.gpuType)) {
      frag += s.weight * total;
      continue;
    }
    // free is sorted descending: the shape fits when its gpuCount-th best GPU has its milli; a CPU-only
    // shape can use no GPU milli at all
    if (s.gpuCount === 0 || s.cpuMilli > n.cpu || s.memoryMib > n.mem || s.gpuCount > n.free.length || n.free[s.gpuCount - 1] < s.gpuMilli) {
      frag += s.weight * total;
      continue;
    }
    let unusable = 0;
    for (let i = n.free.length - 1; i >= 0 && n.free[i] < s.gpuMilli; i--) unusable += n.free[i];
    frag += s.weight * unusable;
  }
  return frag;
}

function freeOf(vn: ViewNode, task?: Task, gpu = -1): NodeFree {
  const free = vn.used.map((u) => MILLI_PER_GPU - u);
  let cpu = vn.cpuFree;
  let mem = vn.memFree;
  if (task) {
    const m = gpuMilliOf(task);
    if (gpu >= 0) free[gpu] -= m;
    else for (let i = 0; i < task.gpuCount; i++) free[vn.free[i]] -= m;
    cpu -= task.cpuMilli ?? 0;
    mem -= task.memoryMib ?? 0;
  }
  free.sort((a, b) => b - a);
  return { gpuType: vn.node.gpuType, free, cpu, mem };
}

export interface FragmentationOptions {
  /**
   * How candidates with the same integer score (floor(100 x sigmoid(-gradient / 1000)), the paper's)
   * are told apart:
   * - 'paper': the node listed first (the paper's simulator takes the lowest node name, which is the
   *   trace's node order); a share goes to the node's first GPU with the best score.
   * - 'balanced' (default): the smallest `order + 1.25 x stranded`, where `order` is the node's position
   *   in the list and `stranded` the GPU milli the candidate would leave that the node's remaining CPU
   *   cannot feed at the workload's CPU per GPU (`cpuPerGpu`: that of the GPU shapes, weighted as they
   *   are; stranded = free milli - 1000 x free CPU / cpuPerGpu, at least 0); for a CPU-only
   *   task, the node's free GPU milli (so CPU-only work goes where the GPUs are used up). First-fit in
   *   node order, moved on where it would strand GPUs for want of CPU.
   */
  score?: 'paper' | 'balanced';
}

/**
 * FGD scorer: F_after - F_before (the fragmentation gradient) for placing the task on the candidate
 * GPU(s), as the paper scores it, ties broken as FragmentationOptions.score says. Measured on the
 * Alibaba trace at 130% load, seeds 42-51 (docs/gpu-scheduler.md). Scores of candidates in the same
 * state (same GPU type, free milli per GPU, CPU and memory) are computed once per task: on a large
 * cluster most nodes are in one of a few states.
 */
export function fragmentationAware(shapes: readonly WorkloadShape[], opts: FragmentationOptions = {}): NodeScorer {
  const paper = opts.score === 'paper';
  const gpuShapes = shapes.filter((s) => s.gpuCount > 0);
  const cpuPerGpu =
    gpuShapes.reduce((a, s) => a + s.weight * s.cpuMilli, 0) / gpuShapes.reduce((a, s) => a + (s.weight * s.gpuCount * s.gpuMilli) / MILLI_PER_GPU, 0);
  // shapes that could ever run on a GPU type, and the weight of the others (their F_n(m) is all free milli)
  const byType = new Map<string, { usable: WorkloadShape[]; barred: number }>();
  const shapesFor = (type: string) => {
    let e = byType.get(type);
    if (!e) {
      const usable = shapes.filter((s) => !s.gpuTypes || s.gpuTypes.includes(type));
      const barred = shapes.reduce((w, s) => w + (s.gpuTypes && !s.gpuTypes.includes(type) ? s.weight : 0), 0);
      byType.set(type, (e = { usable, barred }));
    }
    return e;
  };
  const frag = (n: NodeFree) => {
    const e = shapesFor(n.gpuType);
    let total = 0;
    for (const f of n.free) total += f;
    return e.barred * total + nodeFragmentation(n, e.usable);
  };
  // per node: its state key and F_n, valid while the node's rev is unchanged
  const nodeState = new WeakMap<ViewNode, { rev: number; key: string; frag: number }>();
  const stateOf = (vn: ViewNode) => {
    let st = nodeState.get(vn);
    if (!st || st.rev !== vn.rev) {
      const before = freeOf(vn);
      st = { rev: vn.rev, key: `${vn.node.gpuType}|${before.cpu}|${before.mem}|${before.free.join(',')}`, frag: frag(before) };
      nodeState.set(vn, st);
    }
    return st;
  };
  let lastTask: Task | undefined;
  const memo = new Map<string, number>();
  return {
    name: paper ? 'fgd-paper' : 'fragmentation-aware',
    score(vn, task, gpu) {
      if (task !== lastTask) {
        lastTask = task;
        memo.clear();
      }
      const st = stateOf(vn);
      const key = gpu >= 0 ? `${st.key}|${vn.used[gpu]}` : st.key;
      let score = memo.get(key);
      if (score === undefined) {
        score = Math.floor(100 / (1 + Math.exp((frag(freeOf(vn, task, gpu)) - st.frag) / 1000)));
        memo.set(key, score);
      }
      // tie-breaks below one score point, the same for every GPU of a node (a share goes to the node's
      // first GPU with the best score, as in the paper's plugin)
      if (paper) return score - vn.order * 1e-7;
      const left = vn.freeMilli - task.gpuCount * gpuMilliOf(task);
      const stranded = task.gpuCount === 0 ? vn.freeMilli : Math.max(0, left - (MILLI_PER_GPU * (vn.cpuFree - (task.cpuMilli ?? 0))) / cpuPerGpu);
      return score - 1e-7 * (vn.order + 1.25 * stranded);
    },
  };
}
