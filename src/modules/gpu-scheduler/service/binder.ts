import { DataSource } from 'typeorm';
import type { Allocation } from '../domain';
import { BindConflict, exec, Sql } from './sql';

/** What the binder knows about a node from the snapshot the cycle was computed on. */
export interface NodeSnapshot {
  version: string;
  free: number[];
}

export interface BindRequest {
  ns: string;
  taskId: string;
  /** Version of the task row in the snapshot (it must still be QUEUED at this version). */
  taskVersion: string;
  /** The new attempt number (previous attempt + 1); reports for older attempts are ignored. */
  attempt: number;
  allocations: Allocation[];
  predictedRuntimeSec: number;
  backfilled: boolean;
  nowMs: number;
  ackDeadlineMs: number;
}

export type BindOutcome = { ok: true; nodes: Map<string, NodeSnapshot> } | { ok: false; conflict: string };

/** Postgres errors that mean "another transaction got in the way; nothing is wrong, try again later". */
export function isRetryableSqlError(e: unknown): boolean {
  const code = (e as { code?: string; driverError?: { code?: string } }).code ?? (e as { driverError?: { code?: string } }).driverError?.code;
  return code === '40001' || code === '40P01' || code === '23505';
}

/**
 * Binds one scheduling decision atomically: the task goes QUEUED → SCHEDULED and every node it uses
 * loses exactly those GPUs, in one transaction, each UPDATE guarded by the version read in the
 * snapshot (`WHERE version = $v`). Zero rows → another scheduler (or a report, a node change)
 * moved first → the whole transaction rolls back and the caller skips the decision. Node rows are
 * touched in id order so two binders never deadlock. The per-GPU rows in gpu_allocations have a
 * partial unique index over live allocations as a second, independent guard.
 */
export async function bindDecision(
  ds: DataSource,
  req: BindRequest,
  nodes: ReadonlyMap<string, NodeSnapshot>,
  afterBind?: (tx: Sql) => Promise<void>,
): Promise<BindOutcome> {
  const allocs = [...req.allocations].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  try {
    const updated = await ds.transaction(async (tx) => {
      const t = await exec(
        tx,
        `UPDATE gpu_tasks SET status = 'SCHEDULED', attempt = $4, version = version + 1, placement = $5::jsonb,
                accepted_nodes = '{}', scheduled_at_ms = $6, ack_deadline_ms = $7, predicted_runtime_sec = $8,
                backfilled = $9, started_at_ms = NULL
          WHERE id = $1 AND namespace = $2 AND version = $3 AND status = 'QUEUED' AND NOT cancel_requested
          RETURNING id`,
        [req.taskId, req.ns, req.taskVersion, req.attempt, JSON.stringify(allocs), req.nowMs, req.ackDeadlineMs, req.predictedRuntimeSec, req.backfilled],
      );
      if (t.count !== 1) throw new BindConflict(`task ${req.taskId}`);
      const next = new Map<string, NodeSnapshot>();
      for (const a of allocs) {
        const snap = nodes.get(a.nodeId);
        if (!snap) throw new BindConflict(`node ${a.nodeId} (not in snapshot)`);
        const take = new Set(a.gpuIndices);
        if (a.gpuIndices.some((g) => !snap.free.includes(g))) throw new BindConflict(`node ${a.nodeId} (GPU not free)`);
        const free = snap.free.filter((g) => !take.has(g));
        const n = await exec<{ version: string }>(
          tx,
          `UPDATE gpu_nodes SET free_gpus = $4::int[], version = version + 1
            WHERE namespace = $1 AND id = $2 AND version = $3 AND status = 'ACTIVE'
            RETURNING version`,
          [req.ns, a.nodeId, snap.version, free],
        );
        if (n.count !== 1) throw new BindConflict(`node ${a.nodeId}`);
        next.set(a.nodeId, { version: String(n.rows[0].version), free });
        await tx.query(
          `INSERT INTO gpu_allocations (namespace, task_id, attempt, node_id, gpu_index, bound_at_ms)
           SELECT $1, $2, $3, $4, g, $6 FROM unnest($5::int[]) AS g`,
          [req.ns, req.taskId, req.attempt, a.nodeId, a.gpuIndices, req.nowMs],
        );
      }
      if (afterBind) await afterBind(tx);
      return next;
    });
    return { ok: true, nodes: updated };
  } catch (e) {
    if (e instanceof BindConflict) return { ok: false, conflict: e.what };
    if (isRetryableSqlError(e)) return { ok: false, conflict: (e as Error).message };
    throw e;
  }
}
