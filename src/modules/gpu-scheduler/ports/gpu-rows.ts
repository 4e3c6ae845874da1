import type { Allocation, GangPlacement, GpuNode, NodeStatus, Task, Tier } from '../domain';
import type { NodeFailurePolicy, NodeView, TaskStatus, TaskView } from '../gpu-scheduler.types';
import type { NodeSnapshot } from './binder.port';

/** A task as stored (gpu_tasks): what the stores hand to the services. */
export interface TaskRow {
  id: string;
  namespace: string;
  user_id: string;
  tier: Tier;
  gpu_type: string;
  gpu_count: number;
  gpu_memory_gb: number;
  estimated_runtime_sec: number | null;
  model: string | null;
  command: string | null;
  on_node_failure: NodeFailurePolicy;
  gpu_milli: number | null;
  cpu_milli: number | null;
  memory_mib: number | null;
  gang_placement: GangPlacement | null;
  status: TaskStatus;
  attempt: number;
  version: string;
  placement: Allocation[] | null;
  accepted_nodes: string[];
  cancel_requested: boolean;
  predicted_runtime_sec: number | null;
  backfilled: boolean;
  queued_at_ms: string;
  scheduled_at_ms: string | null;
  ack_deadline_ms: string | null;
  started_at_ms: string | null;
  finished_at_ms: string | null;
  exit_code: number | null;
  reason: string | null;
}

/** A node as stored (gpu_nodes). */
export interface NodeRow {
  namespace: string;
  id: string;
  gpu_type: string;
  gpu_count: number;
  gpu_memory_gb: number;
  labels: Record<string, string>;
  simulated: boolean;
  status: NodeStatus;
  free_gpus: number[];
  gpu_used_milli: number[];
  cpu_milli: number | null;
  memory_mib: number | null;
  cpu_used_milli: number;
  memory_used_mib: number;
  version: string;
  gpu_utilization: number[] | null;
  last_heartbeat_ms: string;
  registered_at_ms: string;
}

const iso = (ms: string | number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** The scheduling core's view of a queued task (times in seconds, as the core expects). */
export function toDomainTask(r: TaskRow): Task {
  return {
    id: r.id,
    userId: r.user_id,
    tier: r.tier,
    gpuType: r.gpu_type,
    gpuCount: r.gpu_count,
    gpuMemoryGb: r.gpu_memory_gb,
    submittedAt: Number(r.queued_at_ms) / 1000,
    estimatedRuntimeSec: r.estimated_runtime_sec ?? undefined,
    model: r.model ?? undefined,
    gpuMilli: r.gpu_milli ?? undefined,
    cpuMilli: r.cpu_milli ?? undefined,
    memoryMib: r.memory_mib ?? undefined,
    gangPlacement: r.gang_placement ?? undefined,
  };
}

export function toDomainNode(r: NodeRow): GpuNode {
  return {
    id: r.id,
    gpuType: r.gpu_type,
    gpuCount: r.gpu_count,
    gpuMemoryGb: r.gpu_memory_gb,
    freeGpuIndices: [...r.free_gpus],
    status: r.status,
    gpuUsedMilli: [...r.gpu_used_milli],
    cpuMilli: r.cpu_milli ?? undefined,
    memoryMib: r.memory_mib ?? undefined,
    cpuUsedMilli: r.cpu_used_milli,
    memoryUsedMib: r.memory_used_mib,
  };
}

/** The stored placement; share fields only where set, so whole-GPU placements read as before. */
export function placementOf(r: Pick<TaskRow, 'placement'>): Allocation[] {
  return (r.placement ?? []).map((a) => ({
    nodeId: a.nodeId,
    gpuIndices: [...a.gpuIndices],
    ...(a.gpuMilli !== undefined ? { gpuMilli: a.gpuMilli } : {}),
    ...(a.cpuMilli !== undefined ? { cpuMilli: a.cpuMilli } : {}),
    ...(a.memoryMib !== undefined ? { memoryMib: a.memoryMib } : {}),
  }));
}

export function toTaskView(r: TaskRow, queuePosition: number | null = null): TaskView {
  return {
    taskId: r.id,
    userId: r.user_id,
    tier: r.tier,
    gpuType: r.gpu_type,
    gpuCount: r.gpu_count,
    gpuMemoryGb: r.gpu_memory_gb,
    estimatedRuntimeSec: r.estimated_runtime_sec,
    model: r.model,
    command: r.command,
    onNodeFailure: r.on_node_failure,
    gpuMilli: r.gpu_milli,
    cpuMilli: r.cpu_milli,
    memoryMib: r.memory_mib,
    gangPlacement: r.gang_placement,
    status: r.status,
    attempt: r.attempt,
    placement: placementOf(r),
    cancelRequested: r.cancel_requested,
    backfilled: r.backfilled,
    queuedAt: iso(r.queued_at_ms)!,
    scheduledAt: iso(r.scheduled_at_ms),
    startedAt: iso(r.started_at_ms),
    finishedAt: iso(r.finished_at_ms),
    predictedRuntimeSec: r.predicted_runtime_sec,
    queuePosition: r.status === 'QUEUED' ? queuePosition : null,
    exitCode: r.exit_code,
    reason: r.reason,
  };
}

export function toNodeView(r: NodeRow): NodeView {
  return {
    id: r.id,
    gpuType: r.gpu_type,
    gpuCount: r.gpu_count,
    gpuMemoryGb: r.gpu_memory_gb,
    labels: r.labels ?? {},
    simulated: r.simulated,
    status: r.status,
    freeGpuIndices: [...r.free_gpus],
    gpuUsedMilli: [...r.gpu_used_milli],
    cpuMilli: r.cpu_milli,
    memoryMib: r.memory_mib,
    cpuUsedMilli: r.cpu_used_milli,
    memoryUsedMib: r.memory_used_mib,
    lastHeartbeatAt: iso(r.last_heartbeat_ms)!,
    registeredAt: iso(r.registered_at_ms)!,
  };
}

export const snapshotOf = (r: NodeRow): NodeSnapshot => ({ version: String(r.version), node: toDomainNode(r) });
