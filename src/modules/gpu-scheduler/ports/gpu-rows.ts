import type { Allocation, GangPlacement, GpuNode, NodeStatus, Task, Tier } from '../domain';
import type { NodeFailurePolicy, NodeView, TaskStatus, TaskView } from '../gpu-scheduler.types';
import type { NodeSnapshot } from './binder.port';

/** A task as stored (gpu_tasks, one field per column, times in epoch ms): what the stores hand to the services. */
export interface StoredTask {
  id: string;
  namespace: string;
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
  version: string;
  placement: Allocation[] | null;
  acceptedNodes: string[];
  cancelRequested: boolean;
  predictedRuntimeSec: number | null;
  backfilled: boolean;
  queuedAtMs: number;
  scheduledAtMs: number | null;
  ackDeadlineMs: number | null;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  exitCode: number | null;
  reason: string | null;
}

/** A node as stored (gpu_nodes, one field per column, times in epoch ms). */
export interface StoredNode {
  namespace: string;
  id: string;
  gpuType: string;
  gpuCount: number;
  gpuMemoryGb: number;
  labels: Record<string, string>;
  simulated: boolean;
  status: NodeStatus;
  freeGpus: number[];
  gpuUsedMilli: number[];
  cpuMilli: number | null;
  memoryMib: number | null;
  cpuUsedMilli: number;
  memoryUsedMib: number;
  version: string;
  gpuUtilization: number[] | null;
  lastHeartbeatMs: number;
  registeredAtMs: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The scheduling core's view of a queued task (times in seconds, as the core expects). */
export function toDomainTask(r: StoredTask): Task {
  return {
    id: r.id,
    userId: r.userId,
    tier: r.tier,
    gpuType: r.gpuType,
    gpuCount: r.gpuCount,
    gpuMemoryGb: r.gpuMemoryGb,
    submittedAt: r.queuedAtMs / 1000,
    estimatedRuntimeSec: r.estimatedRuntimeSec ?? undefined,
    model: r.model ?? undefined,
    gpuMilli: r.gpuMilli ?? undefined,
    cpuMilli: r.cpuMilli ?? undefined,
    memoryMib: r.memoryMib ?? undefined,
    gangPlacement: r.gangPlacement ?? undefined,
  };
}

export function toDomainNode(r: StoredNode): GpuNode {
  return {
    id: r.id,
    gpuType: r.gpuType,
    gpuCount: r.gpuCount,
    gpuMemoryGb: r.gpuMemoryGb,
    freeGpuIndices: [...r.freeGpus],
    status: r.status,
    gpuUsedMilli: [...r.gpuUsedMilli],
    cpuMilli: r.cpuMilli ?? undefined,
    memoryMib: r.memoryMib ?? undefined,
    cpuUsedMilli: r.cpuUsedMilli,
    memoryUsedMib: r.memoryUsedMib,
  };
}

/** The stored placement; share fields only where set, so whole-GPU placements read as before. */
export function placementOf(r: Pick<StoredTask, 'placement'>): Allocation[] {
  return (r.placement ?? []).map((a) => ({
    nodeId: a.nodeId,
    gpuIndices: [...a.gpuIndices],
    ...(a.gpuMilli !== undefined ? { gpuMilli: a.gpuMilli } : {}),
    ...(a.cpuMilli !== undefined ? { cpuMilli: a.cpuMilli } : {}),
    ...(a.memoryMib !== undefined ? { memoryMib: a.memoryMib } : {}),
  }));
}

export function toTaskView(r: StoredTask, queuePosition: number | null = null): TaskView {
  return {
    taskId: r.id,
    userId: r.userId,
    tier: r.tier,
    gpuType: r.gpuType,
    gpuCount: r.gpuCount,
    gpuMemoryGb: r.gpuMemoryGb,
    estimatedRuntimeSec: r.estimatedRuntimeSec,
    model: r.model,
    command: r.command,
    onNodeFailure: r.onNodeFailure,
    gpuMilli: r.gpuMilli,
    cpuMilli: r.cpuMilli,
    memoryMib: r.memoryMib,
    gangPlacement: r.gangPlacement,
    status: r.status,
    attempt: r.attempt,
    placement: placementOf(r),
    cancelRequested: r.cancelRequested,
    backfilled: r.backfilled,
    queuedAt: iso(r.queuedAtMs)!,
    scheduledAt: iso(r.scheduledAtMs),
    startedAt: iso(r.startedAtMs),
    finishedAt: iso(r.finishedAtMs),
    predictedRuntimeSec: r.predictedRuntimeSec,
    queuePosition: r.status === 'QUEUED' ? queuePosition : null,
    exitCode: r.exitCode,
    reason: r.reason,
  };
}

export function toNodeView(r: StoredNode): NodeView {
  return {
    id: r.id,
    gpuType: r.gpuType,
    gpuCount: r.gpuCount,
    gpuMemoryGb: r.gpuMemoryGb,
    labels: r.labels ?? {},
    simulated: r.simulated,
    status: r.status,
    freeGpuIndices: [...r.freeGpus],
    gpuUsedMilli: [...r.gpuUsedMilli],
    cpuMilli: r.cpuMilli,
    memoryMib: r.memoryMib,
    cpuUsedMilli: r.cpuUsedMilli,
    memoryUsedMib: r.memoryUsedMib,
    lastHeartbeatAt: iso(r.lastHeartbeatMs)!,
    registeredAt: iso(r.registeredAtMs)!,
  };
}

export const snapshotOf = (r: StoredNode): NodeSnapshot => ({ version: String(r.version), node: toDomainNode(r) });
