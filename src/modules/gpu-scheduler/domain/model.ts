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
  freeGpuIndices: number[];
  status: NodeStatus;
}

export interface Task {
  id: string;
  userId: string;
  tier: Tier;
  /** Required GPU type; alternatives separated by '|'; undefined (or '*') means any type. */
  gpuType?: string;
  gpuCount: number;
  /** Memory needed on each GPU. */
  gpuMemoryGb: number;
  submittedAt: number;
  estimatedRuntimeSec?: number;
  model?: string;
}

export interface Allocation {
  nodeId: string;
  gpuIndices: number[];
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
