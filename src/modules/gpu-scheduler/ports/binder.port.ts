import type { Allocation, GpuNode } from '../domain';
import type { NewTaskEvent } from './task-events.port';

/** What the binder knows about a node from the snapshot the cycle was computed on. */
export interface NodeSnapshot {
  version: string;
  /** The node's bookkeeping at that version: free GPUs, milli held per GPU, CPU/memory held. */
  node: GpuNode;
}

/** One decision to bind. */
export interface BindRequest {
  taskId: string;
  /** Version of the task row in the snapshot (it must still be QUEUED at this version). */
  taskVersion: string;
  /** The new attempt number (previous attempt + 1); reports for older attempts are ignored. */
  attempt: number;
  allocations: Allocation[];
  predictedRuntimeSec: number;
  backfilled: boolean;
}

/** What every decision of one batch shares. */
export interface BindContext {
  ns: string;
  nowMs: number;
  ackDeadlineMs: number;
}

/**
 * On a lost race nothing was bound. `staleNodes` (changed since the snapshot) and `lostTasks` (no longer
 * QUEUED at their version), when given, are every loser the binder found: the rest of the batch may be
 * bound again as a batch. Without them the loser is unknown.
 */
export type BindOutcome = { ok: true; nodes: Map<string, NodeSnapshot> } | { ok: false; conflict: string; staleNodes?: string[]; lostTasks?: string[] };

/**
 * Binds a batch of scheduling decisions all or nothing: each task goes QUEUED → SCHEDULED and each
 * node it uses takes its GPU milli, CPU and memory, guarded by the versions of the snapshot, with
 * `events` recorded in the same transaction. On a lost race nothing changes and the outcome names
 * the conflict; the nodes' new snapshots come back on success.
 */
export abstract class Binder {
  abstract bindBatch(ctx: BindContext, reqs: readonly BindRequest[], nodes: ReadonlyMap<string, NodeSnapshot>, events: readonly NewTaskEvent[]): Promise<BindOutcome>;
}
