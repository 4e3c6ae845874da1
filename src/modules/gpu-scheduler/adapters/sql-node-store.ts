import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';
import type { NodeRegistration } from '../agent-protocol';
import type { StoredNode } from '../ports/gpu-rows';
import { NodeStore } from '../ports/node-store.port';
import { NODE_COLUMNS, select } from './sql';
import { releaseAllocations } from './sql-allocations';

@Injectable()
export class SqlNodeStore extends NodeStore {
  constructor(
    private readonly ds: DataSource,
    private readonly config: GpuSchedulerConfig,
  ) {
    super();
  }

  async register(input: NodeRegistration, labels: Record<string, string>, nowMs: number): Promise<StoredNode> {
    try {
      const rows = await select<StoredNode>(
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
         RETURNING ${NODE_COLUMNS}`,
        [this.config.NAMESPACE, input.id, input.gpuType, input.gpuCount, input.gpuMemoryGb, JSON.stringify(labels), input.simulated ?? false, nowMs, input.cpuMilli ?? null, input.memoryMib ?? null],
      );
      return rows[0];
    } catch (e) {
      // gpu_nodes_cpu_capacity / gpu_nodes_memory_capacity: running tasks hold more than the new capacity.
      if ((e as { driverError?: { code?: string } }).driverError?.code === '23514') {
        throw new GpuError('conflict', GpuCode.CapacityInUse, `node ${input.id}: running tasks hold more CPU or memory than the new capacity`);
      }
      throw e;
    }
  }

  async heartbeat(id: string, gpuUtilization: number[] | undefined, nowMs: number): Promise<{ node: StoredNode; wasUnhealthy: boolean } | undefined> {
    const rows = await select<StoredNode & { oldStatus: string }>(
      this.ds,
      `UPDATE gpu_nodes SET last_heartbeat_ms = $3, gpu_utilization = COALESCE($4::jsonb, gpu_utilization),
              status = CASE WHEN status = 'UNHEALTHY' THEN 'ACTIVE' ELSE status END,
              version = CASE WHEN status = 'UNHEALTHY' THEN version + 1 ELSE version END
        WHERE namespace = $1 AND id = $2 RETURNING ${NODE_COLUMNS}, (SELECT status FROM gpu_nodes o WHERE o.namespace = $1 AND o.id = $2) AS "oldStatus"`,
      [this.config.NAMESPACE, id, nowMs, gpuUtilization ? JSON.stringify(gpuUtilization) : null],
    );
    return rows[0] && { node: rows[0], wasUnhealthy: rows[0].oldStatus === 'UNHEALTHY' };
  }

  async setStatus(id: string, status: 'ACTIVE' | 'DRAINING' | 'MAINTENANCE'): Promise<StoredNode | undefined> {
    const rows = await select<StoredNode>(this.ds, `UPDATE gpu_nodes SET status = $3, version = version + 1 WHERE namespace = $1 AND id = $2 RETURNING ${NODE_COLUMNS}`, [this.config.NAMESPACE, id, status]);
    return rows[0];
  }

  async get(id: string): Promise<StoredNode | undefined> {
    return (await select<StoredNode>(this.ds, `SELECT ${NODE_COLUMNS} FROM gpu_nodes WHERE namespace = $1 AND id = $2`, [this.config.NAMESPACE, id]))[0];
  }

  list(): Promise<StoredNode[]> {
    return select<StoredNode>(this.ds, `SELECT ${NODE_COLUMNS} FROM gpu_nodes WHERE namespace = $1 ORDER BY id`, [this.config.NAMESPACE]);
  }

  async orphans(nodeId: string, taskIds: string[]): Promise<{ id: string; attempt: number }[]> {
    const live = await select<{ task_id: string }>(
      this.ds,
      `SELECT DISTINCT task_id FROM gpu_allocations WHERE namespace = $1 AND node_id = $2 AND released_at_ms IS NULL AND task_id = ANY($3::text[])`,
      [this.config.NAMESPACE, nodeId, taskIds],
    );
    const keep = new Set(live.map((r) => r.task_id));
    return select<{ id: string; attempt: number }>(this.ds, `SELECT id, attempt FROM gpu_tasks WHERE namespace = $1 AND id = ANY($2::text[])`, [
      this.config.NAMESPACE,
      taskIds.filter((t) => !keep.has(t)),
    ]);
  }

  async releaseStopped(nodeId: string, running: string[], nowMs: number): Promise<number> {
    const held = await select<{ task_id: string; attempt: number }>(
      this.ds,
      `SELECT DISTINCT a.task_id, a.attempt FROM gpu_allocations a JOIN gpu_tasks t ON t.id = a.task_id
        WHERE a.namespace = $1 AND a.node_id = $2 AND a.released_at_ms IS NULL
          AND (t.attempt <> a.attempt OR t.status NOT IN ('SCHEDULED', 'RUNNING')) AND NOT (a.task_id = ANY($3::text[]))`,
      [this.config.NAMESPACE, nodeId, running],
    );
    for (const h of held) {
      await this.ds.transaction((tx) => releaseAllocations(tx, this.config.NAMESPACE, h.task_id, h.attempt, nowMs, nodeId));
    }
    return held.length;
  }

  async markSilentUnhealthy(beforeMs: number): Promise<string[]> {
    const rows = await select<{ id: string }>(
      this.ds,
      `UPDATE gpu_nodes SET status = 'UNHEALTHY', version = version + 1
        WHERE namespace = $1 AND status <> 'UNHEALTHY' AND last_heartbeat_ms < $2 RETURNING id`,
      [this.config.NAMESPACE, beforeMs],
    );
    return rows.map((r) => r.id).sort();
  }

  async unhealthyHolding(): Promise<string[]> {
    const rows = await select<{ node_id: string }>(
      this.ds,
      `SELECT DISTINCT a.node_id FROM gpu_allocations a JOIN gpu_nodes n ON n.namespace = a.namespace AND n.id = a.node_id
        WHERE a.namespace = $1 AND a.released_at_ms IS NULL AND n.status = 'UNHEALTHY'`,
      [this.config.NAMESPACE],
    );
    return rows.map((r) => r.node_id);
  }
}
