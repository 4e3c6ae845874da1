import type { AgentReportEvent } from './agent-protocol';
import type { NodeStatus, Tier } from './domain';

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
}

export interface PlacementView {
  nodeId: string;
  gpuIndices: number[];
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

export interface RegisterNodeInput {
  id: string;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  labels?: Record<string, string>;
  simulated?: boolean;
}

export interface NodeView {
  id: string;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  labels: Record<string, string>;
  simulated: boolean;
  status: NodeStatus;
  freeGpuIndices: number[];
  lastHeartbeatAt: string;
  registeredAt: string;
}

export interface ReportInput {
  nodeId: string;
  attempt: number;
  event: AgentReportEvent;
  exitCode?: number;
  reason?: string;
}

export interface ReportResult {
  taskId: string;
  status: TaskStatus;
  attempt: number;
  /** Why nothing changed: an older attempt, a repeat, or a node the task is not placed on. */
  ignored?: 'stale_attempt' | 'duplicate' | 'not_placed' | 'not_applicable';
}
