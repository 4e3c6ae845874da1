/**
 * The wire contract between the scheduler (api/worker/scheduler roles) and node agents (agent role,
 * or the in-process simulated agent). Agents may run in other processes or machines, so they speak
 * only through this: a job queue per node for dispatches and cancels, and HTTP for everything the
 * agent tells the scheduler. Simulated agents use the very same paths.
 */
import type { Allocation } from './domain';

/** BullMQ (or in-process) queue that carries work for one node. */
export const nodeQueueName = (nodeId: string) => `gpu-node.${nodeId}`;

/** Job names on a node queue. */
export const DISPATCH_JOB = 'dispatch';
export const CANCEL_JOB = 'cancel';

/**
 * The task's part on one node (node, GPU indices, and the share/CPU/memory granted there, which the
 * agent passes on as TETRAD_GPU_MILLI, TETRAD_CPU_MILLI, TETRAD_MEMORY_MIB).
 */
export interface DispatchMessage extends Allocation {
  taskId: string;
  /** Binding attempt; an ack or report for an older attempt is stale and ignored. */
  attempt: number;
  command?: string;
  model?: string;
  /** Simulated agents run this long (divided by the configured time scale). */
  predictedRuntimeSec: number;
  /** Epoch ms after which an unacknowledged dispatch is rolled back by the scheduler. */
  ackDeadline: number;
}

export interface CancelMessage {
  taskId: string;
  attempt: number;
}

/**
 * Agent -> scheduler: `POST /api/v1/gpu/tasks/:taskId/report` (service role) with this body.
 * ACCEPTED acknowledges a dispatch (must arrive before ackDeadline), then STARTED, then exactly one
 * of SUCCEEDED | FAILED | CANCELLED. Reports are idempotent per (taskId, attempt, event).
 */
export type AgentReportEvent = 'ACCEPTED' | 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface AgentReport {
  nodeId: string;
  attempt: number;
  event: AgentReportEvent;
  exitCode?: number;
  reason?: string;
}

/**
 * Agent -> scheduler, on start-up: `POST /api/v1/gpu/nodes` with this body registers (idempotent by
 * id; the same id re-registering after a restart is how an agent comes back).
 */
export interface NodeRegistration {
  id: string;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  labels?: Record<string, string>;
  /** Served by the built-in simulated agent of a worker process. */
  simulated?: boolean;
  /** CPU (milli-cores) and memory (MiB) tasks may use on this node; absent = not accounted. */
  cpuMilli?: number;
  memoryMib?: number;
}

/**
 * Agent -> scheduler, periodically:
 * `POST /api/v1/gpu/nodes/:id/heartbeat` with this body keeps it healthy.
 */
export interface HeartbeatBody {
  /** Tasks the agent is running right now, so the scheduler can fail orphans it no longer runs. */
  runningTaskIds?: string[];
  /** Per-GPU utilization 0..100 as reported by nvidia-smi (or simulated). */
  gpuUtilization?: number[];
}
