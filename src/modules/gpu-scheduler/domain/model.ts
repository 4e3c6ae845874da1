/**
 * Plain-TypeScript model of the GPU scheduler. Times are in seconds (any epoch); nothing here reads
 * a clock — callers pass `now`.
 */
export type NodeStatus = 'ACTIVE' | 'DRAINING' | 'MAINTENANCE' | 'UNHEALTHY';
export type Tier = 'vip' | 'normal';

export interface GpuNode {
  id: string;
  gpuType: string;
  gpuCount: number;
  /** Memory of one GPU on this node. */
  gpuMemoryGb: number;
  /** GPUs no task holds any share of, in the order placement should prefer them. */
  freeGpuIndices: number[];
  status: NodeStatus;
  /**
   * Milli (1/1000 GPU) held on each GPU, by index (length gpuCount). Absent: a GPU listed in
   * freeGpuIndices holds 0 and every other GPU 1000 (whole-GPU bookkeeping, as before sharing).
   * When present it wins: a GPU is fully free exactly when its entry is 0.
   */
  gpuUsedMilli?: number[];
  /** CPU capacity in milli-cores; absent = CPU is not accounted on this node. */
  cpuMilli?: number;
  /** Memory capacity in MiB; absent = memory is not accounted on this node. */
  memoryMib?: number;
  /** CPU held by running tasks (milli-cores), default 0. */
  cpuUsedMilli?: number;
  /** Memory held by running tasks (MiB), default 0. */
  memoryUsedMib?: number;
}

/**
 * How a multi-GPU task may be spread. 'single-node': all GPUs on one node, never split (NVLink).
 * 'fewest-nodes': one node when one has room now, else the fewest nodes of one GPU type.
 * Default (absent): 'single-node' when some registered node could ever hold the task, else 'fewest-nodes'.
 */
export type GangPlacement = 'single-node' | 'fewest-nodes';

/** One GPU = 1000 milli. */
export const MILLI_PER_GPU = 1000;

export interface Task {
  id: string;
  userId: string;
  tier: Tier;
  /** Required GPU type; alternatives separated by '|'; undefined (or '*') means any type. */
  gpuType?: string;
  /** Whole GPUs wanted (each 1000 milli), or 1 with gpuMilli < 1000 for a share of one GPU; 0 = CPU-only. */
  gpuCount: number;
  /** Share of each GPU in milli, 1..1000 (< 1000 only with gpuCount 1). Absent = 1000 (whole GPUs). */
  gpuMilli?: number;
  /** CPU the task needs in milli-cores (whole task; a gang split over nodes takes a GPU-proportional part on each). Default 0. */
  cpuMilli?: number;
  /** Memory the task needs in MiB (whole task, split like cpuMilli). Default 0. */
  memoryMib?: number;
  gangPlacement?: GangPlacement;
  /** Memory needed on each GPU. */
  gpuMemoryGb: number;
  submittedAt: number;
  estimatedRuntimeSec?: number;
  model?: string;
}

/** Where (part of) a task runs: node -> GPU indices -> milli on each of them, plus the node's CPU/memory taken. */
export interface Allocation {
  nodeId: string;
  gpuIndices: number[];
  /** Milli taken on each GPU in gpuIndices; absent = 1000 (whole GPUs). */
  gpuMilli?: number;
  /** CPU taken on this node (milli-cores); absent = 0. */
  cpuMilli?: number;
  /** Memory taken on this node (MiB); absent = 0. */
  memoryMib?: number;
}

export interface RunningTask {
  task: Task;
  startedAt: number;
  allocations: Allocation[];
  /** Predicted end (startedAt + predicted runtime). */
  predictedEndAt: number;
}

/** GPU time already consumed, used by the quota window. */
export interface UsageRecord {
  tier: Tier;
  /** GPUs held, fractional for a shared GPU (gpuMilli / 1000). */
  gpuCount: number;
  start: number;
  end: number;
}

export interface Decision {
  taskId: string;
  allocations: Allocation[];
  /** true when the task jumped a blocked head under EASY backfill. */
  backfilled: boolean;
  predictedEndAt: number;
}

export function anyType(t: Task): boolean {
  return t.gpuType === undefined || t.gpuType === '' || t.gpuType === '*';
}

/** Milli the task takes on each of its GPUs. */
export function gpuMilliOf(t: Pick<Task, 'gpuMilli'>): number {
  return t.gpuMilli ?? MILLI_PER_GPU;
}

/** GPU milli the whole task holds (gpuCount x share); 0 for a CPU-only task. */
export function totalGpuMilliOf(t: Pick<Task, 'gpuCount' | 'gpuMilli'>): number {
  return t.gpuCount * gpuMilliOf(t);
}

/** GPUs the task holds in GPU units (0.5 for a 500-milli share): what GPU time is charged by. */
export function gpuShareOf(t: Pick<Task, 'gpuCount' | 'gpuMilli'>): number {
  return totalGpuMilliOf(t) / MILLI_PER_GPU;
}

/** Why a task's resource request is malformed, or undefined when it is well-formed. */
export function requestProblem(t: Pick<Task, 'gpuCount' | 'gpuMilli' | 'cpuMilli' | 'memoryMib'>): string | undefined {
  if (!Number.isInteger(t.gpuCount) || t.gpuCount < 0) return 'gpuCount must be an integer >= 0';
  if (t.gpuMilli !== undefined) {
    if (!Number.isInteger(t.gpuMilli) || t.gpuMilli < 1 || t.gpuMilli > MILLI_PER_GPU) return 'gpuMilli must be an integer 1..1000';
    if (t.gpuMilli < MILLI_PER_GPU && t.gpuCount !== 1) return 'a GPU share (gpuMilli < 1000) needs gpuCount 1';
  }
  for (const [k, v] of [['cpuMilli', t.cpuMilli], ['memoryMib', t.memoryMib]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) return `${k} must be an integer >= 0`;
  }
  if (t.gpuCount === 0 && !(t.cpuMilli ?? 0) && !(t.memoryMib ?? 0)) return 'a task needs GPUs, CPU or memory';
  return undefined;
}

/** Milli held on each GPU of `node` (see GpuNode.gpuUsedMilli). */
export function usedMilliOf(node: Pick<GpuNode, 'gpuCount' | 'freeGpuIndices' | 'gpuUsedMilli'>): number[] {
  if (node.gpuUsedMilli) return [...node.gpuUsedMilli];
  const used = new Array<number>(node.gpuCount).fill(MILLI_PER_GPU);
  for (const g of node.freeGpuIndices) used[g] = 0;
  return used;
}

/**
 * Applies `alloc` to a node record in place (the simulator's and a binder's bookkeeping): GPU milli, the
 * fully-free list, CPU and memory. Throws, changing nothing, if any GPU or the node's CPU/memory would go
 * over capacity: the over-allocation guard.
 */
export function takeOnNode(node: GpuNode, alloc: Allocation): void {
  const m = alloc.gpuMilli ?? MILLI_PER_GPU;
  const used = usedMilliOf(node);
  for (const g of alloc.gpuIndices) {
    if (!(g >= 0 && g < node.gpuCount) || used[g] + m > MILLI_PER_GPU) throw new Error(`GPU ${node.id}#${g} is not free (${used[g]} + ${m} milli > 1000)`);
    used[g] += m;
  }
  const cpu = (node.cpuUsedMilli ?? 0) + (alloc.cpuMilli ?? 0);
  const mem = (node.memoryUsedMib ?? 0) + (alloc.memoryMib ?? 0);
  if (node.cpuMilli !== undefined && cpu > node.cpuMilli) throw new Error(`node ${node.id} CPU over capacity (${cpu} > ${node.cpuMilli} milli)`);
  if (node.memoryMib !== undefined && mem > node.memoryMib) throw new Error(`node ${node.id} memory over capacity (${mem} > ${node.memoryMib} MiB)`);
  node.gpuUsedMilli = used;
  node.freeGpuIndices = node.freeGpuIndices.filter((g) => used[g] === 0);
  node.cpuUsedMilli = cpu;
  node.memoryUsedMib = mem;
}

/** Undoes takeOnNode. Throws if `alloc` holds more than the node has recorded (a double release). */
export function releaseOnNode(node: GpuNode, alloc: Allocation): void {
  const m = alloc.gpuMilli ?? MILLI_PER_GPU;
  const used = usedMilliOf(node);
  for (const g of alloc.gpuIndices) {
    if (used[g] < m) throw new Error(`GPU ${node.id}#${g} freed twice (${used[g]} < ${m} milli)`);
    used[g] -= m;
    if (used[g] === 0) node.freeGpuIndices.push(g);
  }
  node.gpuUsedMilli = used;
  node.cpuUsedMilli = Math.max(0, (node.cpuUsedMilli ?? 0) - (alloc.cpuMilli ?? 0));
  node.memoryUsedMib = Math.max(0, (node.memoryUsedMib ?? 0) - (alloc.memoryMib ?? 0));
}
