import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GpuNode, MILLI_PER_GPU, takeOnNode } from '../domain';
import { Binder, BindContext, BindOutcome, BindRequest, NodeSnapshot } from '../ports/binder.port';
import { NewTaskEvent, taskEventMessage } from '../ports/task-events.port';
import { exec, isRetryableSqlError, select } from './sql';
import { Outbox } from '../../../platform/outbox/outbox';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';

/** Thrown inside a binding transaction when a guarded UPDATE matched no row: another writer won. */
class BindConflict extends Error {
  constructor(
    readonly what: string,
    readonly losers?: { staleNodes?: string[]; lostTasks?: string[] },
  ) {
    super(`binding conflict on ${what}`);
  }
}

const byId = (a: { nodeId: string }, b: { nodeId: string }) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);

/**
 * The nodes' bookkeeping after every decision of the batch, from the snapshot, with the domain's
 * over-allocation guard (takeOnNode throws past 1000 milli on a GPU or a node's CPU/memory).
 */
function nextNodes(reqs: readonly BindRequest[], nodes: ReadonlyMap<string, NodeSnapshot>): Map<string, { version: string; node: GpuNode }> {
  const next = new Map<string, { version: string; node: GpuNode }>();
  for (const r of reqs) {
    for (const a of r.allocations) {
      let n = next.get(a.nodeId);
      if (!n) {
        const snap = nodes.get(a.nodeId);
        if (!snap) throw new BindConflict(`node ${a.nodeId} (not in snapshot)`);
        const s = snap.node;
        n = { version: snap.version, node: { ...s, freeGpuIndices: [...s.freeGpuIndices], gpuUsedMilli: s.gpuUsedMilli && [...s.gpuUsedMilli] } };
        next.set(a.nodeId, n);
      }
      try {
        takeOnNode(n.node, a);
      } catch (e) {
        throw new BindConflict(`node ${a.nodeId} (${(e as Error).message})`);
      }
    }
  }
  return next;
}

/**
 * One transaction per batch. Every row write is guarded by the version read in the snapshot; a guard
 * that matches no row means another scheduler (or a report, a node change) moved first, so the whole
 * batch rolls back. Node rows are locked in id order first, so two binders never deadlock. The per-GPU
 * rows in gpu_allocations are a second, independent guard: a trigger refuses a commit that puts more
 * than 1000 live milli on one GPU. A constant number of statements per batch (not per decision) is
 * what makes batching pay.
 */
@Injectable()
export class SqlBinder extends Binder {
  constructor(
    private readonly ds: DataSource,
    private readonly outbox: Outbox,
    private readonly config: GpuSchedulerConfig,
  ) {
    super();
  }

  async bindBatch(
    ctx: BindContext,
    reqs: readonly BindRequest[],
    nodes: ReadonlyMap<string, NodeSnapshot>,
    events: readonly NewTaskEvent[],
  ): Promise<BindOutcome> {
    try {
      const next = nextNodes(reqs, nodes);
      const nodeIds = [...next.keys()].sort();
      await this.ds.transaction(async (tx) => {
        const locked = await select<{ id: string; version: string; status: string }>(
          tx,
          `SELECT id, version, status FROM gpu_nodes WHERE namespace = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE`,
          [ctx.ns, nodeIds],
        );
        const seen = new Map(locked.map((r) => [r.id, r]));
        const staleNodes = nodeIds.filter((id) => {
          const row = seen.get(id);
          return !row || String(row.version) !== next.get(id)!.version || row.status !== 'ACTIVE';
        });
        if (staleNodes.length > 0) throw new BindConflict(`node ${staleNodes[0]}`, { staleNodes });
        const t = await exec<{ id: string }>(
          tx,
          `UPDATE gpu_tasks t SET status = 'SCHEDULED', attempt = d.attempt, version = t.version + 1, placement = d.placement,
                  accepted_nodes = '{}', scheduled_at_ms = $2, ack_deadline_ms = $3, predicted_runtime_sec = d.predicted,
                  backfilled = d.backfilled, started_at_ms = NULL
             FROM unnest($4::text[], $5::bigint[], $6::int[], $7::jsonb[], $8::real[], $9::boolean[])
                  AS d(id, v, attempt, placement, predicted, backfilled)
            WHERE t.id = d.id AND t.namespace = $1 AND t.version = d.v AND t.status = 'QUEUED' AND NOT t.cancel_requested
            RETURNING t.id`,
          [
            ctx.ns,
            ctx.nowMs,
            ctx.ackDeadlineMs,
            reqs.map((r) => r.taskId),
            reqs.map((r) => r.taskVersion),
            reqs.map((r) => r.attempt),
            reqs.map((r) => JSON.stringify([...r.allocations].sort(byId))),
            reqs.map((r) => r.predictedRuntimeSec),
            reqs.map((r) => r.backfilled),
          ],
        );
        if (t.count !== reqs.length) {
          const got = new Set(t.rows.map((r) => r.id));
          const lostTasks = reqs.filter((r) => !got.has(r.taskId)).map((r) => r.taskId);
          throw new BindConflict(`task ${lostTasks[0] ?? '?'}`, { lostTasks });
        }
        const states = nodeIds.map((id) => {
          const n = next.get(id)!.node;
          return { id, v: next.get(id)!.version, free: n.freeGpuIndices, used: n.gpuUsedMilli, cpu: n.cpuUsedMilli ?? 0, mem: n.memoryUsedMib ?? 0 };
        });
        const n = await exec<{ id: string; version: string }>(
          tx,
          `UPDATE gpu_nodes n SET
                  free_gpus = ARRAY(SELECT x::int FROM jsonb_array_elements_text(d.free) WITH ORDINALITY AS e(x, i) ORDER BY i),
                  gpu_used_milli = ARRAY(SELECT x::int FROM jsonb_array_elements_text(d.used) WITH ORDINALITY AS e(x, i) ORDER BY i),
                  cpu_used_milli = d.cpu, memory_used_mib = d.mem, version = n.version + 1
             FROM jsonb_to_recordset($2::jsonb) AS d(id text, v bigint, free jsonb, used jsonb, cpu int, mem int)
            WHERE n.namespace = $1 AND n.id = d.id AND n.version = d.v
            RETURNING n.id, n.version`,
          [ctx.ns, JSON.stringify(states)],
        );
        if (n.count !== nodeIds.length) throw new BindConflict(`node ${nodeIds.find((id) => !n.rows.some((r) => r.id === id))}`);
        for (const r of n.rows) next.get(r.id)!.version = String(r.version);
        // One row per GPU; a node allocation's CPU/memory ride on its lowest GPU's row.
        const rows: [string, number, string, number, number, number, number][] = [];
        for (const r of reqs) {
          for (const a of r.allocations) {
            const gpus = [...a.gpuIndices].sort((x, y) => x - y);
            gpus.forEach((g, k) => rows.push([r.taskId, r.attempt, a.nodeId, g, a.gpuMilli ?? MILLI_PER_GPU, k === 0 ? (a.cpuMilli ?? 0) : 0, k === 0 ? (a.memoryMib ?? 0) : 0]));
          }
        }
        await tx.query(
          `INSERT INTO gpu_allocations (namespace, task_id, attempt, node_id, gpu_index, milli, cpu_milli, memory_mib, bound_at_ms)
           SELECT $1, task_id, attempt, node_id, gpu_index, milli, cpu, mem, $2
             FROM unnest($3::text[], $4::int[], $5::text[], $6::int[], $7::int[], $8::int[], $9::int[]) AS r(task_id, attempt, node_id, gpu_index, milli, cpu, mem)`,
          [ctx.ns, ctx.nowMs, ...[0, 1, 2, 3, 4, 5, 6].map((c) => rows.map((row) => row[c]))],
        );
        await this.outbox.append(tx, ...events.map((e) => taskEventMessage(this.config, e, ctx.nowMs)));
      });
      return { ok: true, nodes: next };
    } catch (e) {
      if (e instanceof BindConflict) return { ok: false, conflict: e.what, ...e.losers };
      if (isRetryableSqlError(e)) return { ok: false, conflict: (e as Error).message };
      throw e;
    }
  }
}
