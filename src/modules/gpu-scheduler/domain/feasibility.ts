import { anyType, GpuNode, requestProblem, Task } from './model';

type FeasibilityTask = Pick<Task, 'gpuType' | 'gpuCount' | 'gpuMemoryGb'> & Partial<Pick<Task, 'gpuMilli' | 'cpuMilli' | 'memoryMib' | 'gangPlacement'>>;
type FeasibilityNode = Pick<GpuNode, 'gpuType' | 'gpuCount' | 'gpuMemoryGb'> & Partial<Pick<GpuNode, 'cpuMilli' | 'memoryMib'>>;

/**
 * Could `task` ever run on this cluster (every registered node, whatever its current status, since
 * DRAINING/MAINTENANCE/UNHEALTHY nodes come back)? A gang may span nodes of one GPU type only (and
 * only when it is not 'single-node'), each GPU must have the memory asked for, and the CPU/memory asked
 * must fit the nodes' capacities. Returns undefined when feasible, else the reason, which the API turns
 * into a 422 at submit.
 */
export function infeasibility(task: FeasibilityTask, nodes: readonly FeasibilityNode[]): string | undefined {
  const malformed = requestProblem(task);
  if (malformed) return malformed;
  if (nodes.length === 0) return 'no GPU nodes are registered';
  const cpu = task.cpuMilli ?? 0;
  const mem = task.memoryMib ?? 0;
  const roomy = (n: FeasibilityNode, share = 1) => (n.cpuMilli ?? Infinity) >= cpu * share && (n.memoryMib ?? Infinity) >= mem * share;
  if (task.gpuCount === 0) {
    if (nodes.some((n) => roomy(n))) return undefined;
    return `no node has ${cpu} milli CPU and ${mem} MiB memory`;
  }
  const wanted = anyType(task as Task) ? undefined : task.gpuType!.split('|');
  const known = new Set(nodes.map((n) => n.gpuType));
  const types = wanted ?? [...known];
  const present = types.filter((t) => known.has(t));
  if (present.length === 0) return `unknown gpuType ${task.gpuType}: the cluster has ${[...known].sort().join(', ')}`;
  const oneNodeOnly = task.gangPlacement === 'single-node' || task.gpuCount === 1;
  let bestGpus = 0;
  let maxMem = 0;
  for (const type of present) {
    let gpus = 0;
    for (const n of nodes) {
      if (n.gpuType !== type) continue;
      maxMem = Math.max(maxMem, n.gpuMemoryGb);
      if (n.gpuMemoryGb < task.gpuMemoryGb) continue;
      if (oneNodeOnly) {
        if (n.gpuCount >= task.gpuCount && roomy(n)) return undefined;
        if (roomy(n)) bestGpus = Math.max(bestGpus, n.gpuCount);
      } else {
        // split over nodes, a node holding k of the gang's GPUs takes k/gpuCount of its CPU and memory
        let k = n.gpuCount;
        if (cpu > 0) k = Math.min(k, Math.floor(((n.cpuMilli ?? Infinity) * task.gpuCount) / cpu));
        if (mem > 0) k = Math.min(k, Math.floor(((n.memoryMib ?? Infinity) * task.gpuCount) / mem));
        gpus += k;
      }
    }
    if (!oneNodeOnly && gpus >= task.gpuCount) return undefined;
    bestGpus = Math.max(bestGpus, gpus);
  }
  if (maxMem < task.gpuMemoryGb) return `no ${present.join('|')} GPU has ${task.gpuMemoryGb} GB (largest: ${maxMem} GB)`;
  if (oneNodeOnly) {
    return `no ${present.join('|')} node has ${task.gpuCount} GPU(s) with ${task.gpuMemoryGb} GB, ${cpu} milli CPU and ${mem} MiB memory (largest fitting: ${bestGpus} GPU(s))`;
  }
  return `the cluster has at most ${bestGpus} ${present.join('|')} GPU(s) with ${task.gpuMemoryGb} GB, ${task.gpuCount} requested`;
}
