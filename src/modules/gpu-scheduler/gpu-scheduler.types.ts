import type { Allocation, GangPlacement, NodeStatus, Task, Tier } from './domain';

export const TASK_STATUSES = ['QUEUED', 'SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL: readonly TaskStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export type NodeFailurePolicy = 'fail' | 'requeue';

/** A task as submitted: the core's task without its id and submit time, plus what only the service uses. */
export type SubmitTaskInput = Omit<Task, 'id' | 'submittedAt' | 'gpuType'> & {
  gpuType: string;
  command?: string;
  /** What happens when a node running the task becomes UNHEALTHY. Default fail. */
  onNodeFailure?: NodeFailurePolicy;
};

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
  placement: Allocation[];
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
