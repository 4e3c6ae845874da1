import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { CANCEL_JOB, HeartbeatBody, nodeQueueName } from '../agent-protocol';
import { GpuCode, GpuError, nodeNotFound } from '../gpu-scheduler.errors';
import { NodeView, RegisterNodeInput } from '../gpu-scheduler.types';
import { releaseAllocations } from '../adapters/sql-allocations';
import { CycleTrigger } from './cycle-trigger';
import { NodeRow, select, toNodeView } from '../adapters/sql-rows';

type NodeListener = (node: NodeView) => void;

/** Node registry: (re-)registration, heartbeats, admin status changes. */
@Injectable()
export class NodeService {
  private readonly listeners: NodeListener[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly queue: JobQueue,
    private readonly trigger: CycleTrigger,
  ) {}

  private get ns(): string {
    return this.config.NAMESPACE;
  }

  /** In-process hook for every registration in this process (e.g. to start a simulated agent). */
  onRegistered(fn: NodeListener): void {
    this.listeners.push(fn);
  }

  /**
   * Idempotent by id. Re-registering is how an agent comes back: an UNHEALTHY node turns ACTIVE
   * (an admin's DRAINING/MAINTENANCE is kept), and its free list is rebuilt as every GPU not held
   * by a live allocation, so a changed gpuCount is picked up too.
   */
  async register(input: RegisterNodeInput): Promise<NodeView> {
    const labels = input.labels ?? {};
    if (Object.keys(labels).length > 64 || Object.entries(labels).some(([k, v]) => typeof v !== 'string' || k.length > 128 || v.length > 256)) {
      throw new GpuError('invalid', GpuCode.InvalidLabels, 'labels must be up to 64 string values', {
        errors: [{ field: 'labels', message: 'labels must map keys (<=128 chars) to strings (<=256 chars)' }],
      });
    }
    const now = this.clock.now();
    let rows: NodeRow[];
    try {
      rows = await select<NodeRow>(
        this.ds,
        `WITH live AS (
           SELECT gpu_index, sum(milli)::int AS milli, sum(cpu_milli)::int AS cpu, sum(memory_mib)::int AS mem
             FROM gpu_allocations WHERE namespace = $1 AND node_id = $2 AND released_at_ms IS NULL GROUP BY gpu_index)
         INSERT INTO gpu_nodes AS n (namespace, id, gpu_type, gpu_count, gpu_memory_gb, labels, simulated, status, free_gpus,
                                     gpu_used_milli, cpu_milli, memory_mib, last_heartbeat_ms, registered_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 'ACTIVE', ARRAY(SELECT generate_series(0, $4 - 1)),
                 array_fill(0, ARRAY[$4::int]), $9, $10, $8, $8)
         ON CONFLICT (namespace, id) DO UPDATE SET
           gpu_type = EXCLUDED.gpu_type, gpu_count = EXCLUDED.gpu_count, gpu_memory_gb = EXCLUDED.gpu_memory_gb,
           labels = EXCLUDED.labels, simulated = EXCLUDED.simulated, last_heartbeat_ms = EXCLUDED.last_heartbeat_ms,
           status = CASE WHEN n.status = 'UNHEALTHY' THEN 'ACTIVE' ELSE n.status END,
           free_gpus = ARRAY(SELECT g FROM generate_series(0, EXCLUDED.gpu_count - 1) AS g
                              WHERE g NOT IN (SELECT gpu_index FROM live) ORDER BY g),
           gpu_used_milli = ARRAY(SELECT coalesce((SELECT milli FROM live WHERE gpu_index = g), 0)
                                    FROM generate_series(0, EXCLUDED.gpu_count - 1) AS g ORDER BY g),
           cpu_milli = EXCLUDED.cpu_milli, memory_mib = EXCLUDED.memory_mib,
           cpu_used_milli = (SELECT coalesce(sum(cpu), 0) FROM live), memory_used_mib = (SELECT coalesce(sum(mem), 0) FROM live),
           version = n.version + 1
         RETURNING *`,
        [this.ns, input.id, input.gpuType, input.gpuCount, input.gpuMemoryGb, JSON.stringify(labels), input.simulated ?? false, now, input.cpuMilli ?? null, input.memoryMib ?? null],
      );
    } catch (e) {
      // gpu_nodes_cpu_capacity / gpu_nodes_memory_capacity: running tasks hold more than the new capacity.
      if ((e as { driverError?: { code?: string } }).driverError?.code === '23514') {
        throw new GpuError('conflict', GpuCode.CapacityInUse, `node ${input.id}: running tasks hold more CPU or memory than the new capacity`);
      }
      throw e;
    }
    const view = toNodeView(rows[0]);
    for (const l of this.listeners) l(view);
    this.trigger.request();
    return view;
  }

  /**
   * Keeps the node healthy; an UNHEALTHY node that heartbeats again is back (its tasks were already
   * failed or requeued). Tasks the agent says it runs but the scheduler no longer places there
   * (failed over, rolled back, finished) get a CANCEL job, so orphans do not hold real GPUs.
   */
  async heartbeat(id: string, body: HeartbeatBody): Promise<NodeView> {
    const now = this.clock.now();
    const rows = await select<NodeRow>(
      this.ds,
      `UPDATE gpu_nodes SET last_heartbeat_ms = $3, gpu_utilization = COALESCE($4::jsonb, gpu_utilization),
              status = CASE WHEN status = 'UNHEALTHY' THEN 'ACTIVE' ELSE status END,
              version = CASE WHEN status = 'UNHEALTHY' THEN version + 1 ELSE version END
        WHERE namespace = $1 AND id = $2 RETURNING *, (SELECT status FROM gpu_nodes o WHERE o.namespace = $1 AND o.id = $2) AS old_status`,
      [this.ns, id, now, body.gpuUtilization ? JSON.stringify(body.gpuUtilization) : null],
    );
    const row = rows[0] as (NodeRow & { old_status: string }) | undefined;
    if (!row) throw nodeNotFound(id);
    if (row.old_status === 'UNHEALTHY') this.trigger.request();
    if (body.runningTaskIds?.length) await this.cancelOrphans(id, body.runningTaskIds);
    if (body.runningTaskIds && (await this.releaseStopped(id, body.runningTaskIds, now)) > 0) this.trigger.request();
    return toNodeView(row);
  }

  /**
   * GPUs kept for a task that is no longer live here (an older attempt, or ended elsewhere in its
   * gang) wait for this node's agent to say its process stopped; a heartbeat that does not list the
   * task says so too, so the GPUs come back even if that report was lost.
   */
  private async releaseStopped(nodeId: string, running: string[], now: number): Promise<number> {
    const held = await select<{ task_id: string; attempt: number }>(
      this.ds,
      `SELECT DISTINCT a.task_id, a.attempt FROM gpu_allocations a JOIN gpu_tasks t ON t.id = a.task_id
        WHERE a.namespace = $1 AND a.node_id = $2 AND a.released_at_ms IS NULL
          AND (t.attempt <> a.attempt OR t.status NOT IN ('SCHEDULED', 'RUNNING')) AND NOT (a.task_id = ANY($3::text[]))`,
      [this.ns, nodeId, running],
    );
    for (const h of held) {
      await this.ds.transaction((tx) => releaseAllocations(tx, this.ns, h.task_id, h.attempt, now, nodeId));
    }
    return held.length;
  }

  private async cancelOrphans(nodeId: string, taskIds: string[]): Promise<void> {
    const live = await select<{ task_id: string }>(
      this.ds,
      `SELECT DISTINCT task_id FROM gpu_allocations WHERE namespace = $1 AND node_id = $2 AND released_at_ms IS NULL AND task_id = ANY($3::text[])`,
      [this.ns, nodeId, taskIds],
    );
    const keep = new Set(live.map((r) => r.task_id));
    const orphans = await select<{ id: string; attempt: number }>(
      this.ds,
      `SELECT id, attempt FROM gpu_tasks WHERE namespace = $1 AND id = ANY($2::text[])`,
      [this.ns, taskIds.filter((t) => !keep.has(t))],
    );
    for (const o of orphans) {
      await this.queue.add(nodeQueueName(nodeId), CANCEL_JOB, { taskId: o.id, attempt: o.attempt }, { jobId: `orphan-${o.id}-${o.attempt}` });
    }
  }

  async setStatus(id: string, status: 'ACTIVE' | 'DRAINING' | 'MAINTENANCE'): Promise<NodeView> {
    const rows = await select<NodeRow>(
      this.ds,
      `UPDATE gpu_nodes SET status = $3, version = version + 1 WHERE namespace = $1 AND id = $2 RETURNING *`,
      [this.ns, id, status],
    );
    if (!rows[0]) throw nodeNotFound(id);
    this.trigger.request();
    return toNodeView(rows[0]);
  }

  async get(id: string): Promise<NodeView> {
    const rows = await select<NodeRow>(this.ds, `SELECT * FROM gpu_nodes WHERE namespace = $1 AND id = $2`, [this.ns, id]);
    if (!rows[0]) throw nodeNotFound(id);
    return toNodeView(rows[0]);
  }

  async list(): Promise<NodeView[]> {
    const rows = await select<NodeRow>(this.ds, `SELECT * FROM gpu_nodes WHERE namespace = $1 ORDER BY id`, [this.ns]);
    return rows.map(toNodeView);
  }
}
