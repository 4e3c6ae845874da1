/** Nodes and tasks for the gpu-scheduler domain specs (src/modules/gpu-scheduler/domain/*.spec.ts). */
import { GpuNode, Task } from '../../src/modules/gpu-scheduler/domain/model';

export function node(id: string, gpuCount = 8, gpuType = 'A100', free?: number[], gpuMemoryGb = 80): GpuNode {
  return { id, gpuType, gpuCount, gpuMemoryGb, freeGpuIndices: free ?? [...Array(gpuCount).keys()], status: 'ACTIVE' };
}

export function task(id: string, over: Partial<Task> = {}): Task {
  return { id, userId: 'u', tier: 'normal', gpuCount: 1, gpuMemoryGb: 0, submittedAt: 0, ...over };
}
