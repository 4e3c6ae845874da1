import type { GangPlacement, NodeStatus, Tier } from './domain';

export const TASK_STATUSES = ['QUEUED', 'SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL: readonly TaskStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export type NodeFailurePolicy = 'fail' | 'requeue';

export interface SubmitTaskInput {
  userId: string;
  tier: Tier;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  estimatedRuntimeSec?: number;
  model?: string;
  command?: string;
  /** What happens when a node running the task becomes UNHEALTHY. Default fail. */
  onNodeFailure?: NodeFailurePolicy;
  /** Share of one GPU in milli (1..1000; < 1000 only with gpuCount 1). Absent = whole GPUs. */
  gpuMilli?: number;
  /** CPU (milli-cores) and memory (MiB) the whole task needs; absent = not accounted. */
  cpuMilli?: number;
  memoryMib?: number;
  gangPlacement?: GangPlacement;
}

export interface PlacementView {
  nodeId: string;
  gpuIndices: number[];
  /** Present for a share of a GPU (milli held on each index) and when CPU/memory were asked for. */
  gpuMilli?: number;
  cpuMilli?: number;
  memoryMib?: number;
}

export interface TaskView {
  taskId: string;
  userId: string;
  tier: Tier;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  estimatedRuntimeSec: number | null;
  model: string | null;
  command: string | null;
  onNodeFailure: NodeFailurePolicy;
  gpuMilli: number | null;
  cpuMilli: number | null;
  memoryMib: number | null;
  gangPlacement: GangPlacement | null;
  status: TaskStatus;
  attempt: number;
  placement: PlacementView[];
  cancelRequested: boolean;
  backfilled: boolean;
  queuedAt: string;
  scheduledAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  predictedRuntimeSec: number | null;
  /** 1-based position inside its tier's queue (oldest first) while QUEUED, else null. */
  queuePosition: number | null;
  exitCode: number | null;
  reason: string | null;
}

export interface NodeView {
  id: string;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  labels: Record<string, string>;
  simulated: boolean;
  status: NodeStatus;
  /** GPUs no task holds any share of. */
  freeGpuIndices: number[];
  /** Milli (of 1000) held on each GPU, by index. */
  gpuUsedMilli: number[];
  cpuMilli: number | null;
  memoryMib: number | null;
  cpuUsedMilli: number;
  memoryUsedMib: number;
  lastHeartbeatAt: string;
  registeredAt: string;
}

export interface ReportResult {
  taskId: string;
  status: TaskStatus;
  attempt: number;
  /** Why nothing changed: an older attempt, a repeat, or a node the task is not placed on. */
  ignored?: 'stale_attempt' | 'duplicate' | 'not_placed' | 'not_applicable';
}
