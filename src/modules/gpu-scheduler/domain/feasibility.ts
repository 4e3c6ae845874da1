import { anyType, GpuNode, Task } from './model';

/**
 * Could `task` ever run on this cluster (every registered node, whatever its current status, since
 * DRAINING/MAINTENANCE/UNHEALTHY nodes come back)? A gang may span nodes of one GPU type only, and
 * each GPU must have the memory asked for. Returns undefined when feasible, else the reason, which
 * the API turns into a 422 at submit.
 */
export function infeasibility(task: Pick<Task, 'gpuType' | 'gpuCount' | 'gpuMemoryGb'>, nodes: readonly Pick<GpuNode, 'gpuType' | 'gpuCount' | 'gpuMemoryGb'>[]): string | undefined {
  if (nodes.length === 0) return 'no GPU nodes are registered';
  const wanted = anyType(task as Task) ? undefined : task.gpuType!.split('|');
  const known = new Set(nodes.map((n) => n.gpuType));
  const types = wanted ?? [...known];
  const present = types.filter((t) => known.has(t));
  if (present.length === 0) return `unknown gpuType ${task.gpuType}: the cluster has ${[...known].sort().join(', ')}`;
  let bestGpus = 0;
  let maxMem = 0;
  for (const type of present) {
    let gpus = 0;
    for (const n of nodes) {
      if (n.gpuType !== type) continue;
      maxMem = Math.max(maxMem, n.gpuMemoryGb);
      if (n.gpuMemoryGb >= task.gpuMemoryGb) gpus += n.gpuCount;
    }
    if (gpus >= task.gpuCount) return undefined;
    bestGpus = Math.max(bestGpus, gpus);
  }
  if (maxMem < task.gpuMemoryGb) return `no ${present.join('|')} GPU has ${task.gpuMemoryGb} GB (largest: ${maxMem} GB)`;
  return `the cluster has at most ${bestGpus} ${present.join('|')} GPU(s) with ${task.gpuMemoryGb} GB, ${task.gpuCount} requested`;
}
