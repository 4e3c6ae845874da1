/** Nodes and tasks for the gpu-scheduler domain specs (src/modules/gpu-scheduler/domain/*.spec.ts). */
import { GpuNode, MILLI_PER_GPU, RunningTask, Task, usedMilliOf } from '../../src/modules/gpu-scheduler/domain/model';
import { fullOrderStream } from '../../src/modules/gpu-scheduler/domain/selection';

export function node(id: string, gpuCount = 8, gpuType = 'A100', free?: number[], gpuMemoryGb = 80): GpuNode {
  return { id, gpuType, gpuCount, gpuMemoryGb, freeGpuIndices: free ?? [...Array(gpuCount).keys()], status: 'ACTIVE' };
}

export function task(id: string, over: Partial<Task> = {}): Task {
  return { id, userId: 'u', tier: 'normal', gpuCount: 1, gpuMemoryGb: 0, submittedAt: 0, ...over };
}

/**
 * The running tasks' allocations add up, on every GPU, to the node's recorded milli (never over 1000), a
 * GPU is listed free exactly when nothing holds it, and no node's CPU/memory is over its capacity.
 */
export function checkInvariants(nodes: readonly GpuNode[], running: ReadonlyMap<string, RunningTask>): void {
  const held = new Map<string, number>();
  const cpu = new Map<string, number>();
  const mem = new Map<string, number>();
  for (const r of running.values())
    for (const a of r.allocations) {
      for (const g of a.gpuIndices) held.set(`${a.nodeId}#${g}`, (held.get(`${a.nodeId}#${g}`) ?? 0) + (a.gpuMilli ?? MILLI_PER_GPU));
      cpu.set(a.nodeId, (cpu.get(a.nodeId) ?? 0) + (a.cpuMilli ?? 0));
      mem.set(a.nodeId, (mem.get(a.nodeId) ?? 0) + (a.memoryMib ?? 0));
    }
  for (const n of nodes) {
    const used = usedMilliOf(n);
    const free = new Set(n.freeGpuIndices);
    if (free.size !== n.freeGpuIndices.length) throw new Error(`invariant: node ${n.id} lists a free GPU twice`);
    for (let g = 0; g < n.gpuCount; g++) {
      const h = held.get(`${n.id}#${g}`) ?? 0;
      if (h > MILLI_PER_GPU || h !== used[g]) throw new Error(`invariant: GPU ${n.id}#${g} held ${h} milli, recorded ${used[g]}`);
      if ((h === 0) !== free.has(g)) throw new Error(`invariant: GPU ${n.id}#${g} free list disagrees with ${h} milli held`);
    }
    if (n.cpuMilli !== undefined && (cpu.get(n.id) ?? 0) > n.cpuMilli) throw new Error(`invariant: node ${n.id} CPU over capacity`);
    if (n.memoryMib !== undefined && (mem.get(n.id) ?? 0) > n.memoryMib) throw new Error(`invariant: node ${n.id} memory over capacity`);
  }
}

/** The whole full-policy order at once (fullOrderStream drained). */
export function fullOrder(...args: Parameters<typeof fullOrderStream>): Task[] {
  const next = fullOrderStream(...args);
  const out: Task[] = [];
  for (let t = next(); t !== undefined; t = next()) out.push(t);
  return out;
}
