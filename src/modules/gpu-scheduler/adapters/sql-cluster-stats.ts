import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import type { Tier } from '../domain';
import type { TaskStatus } from '../gpu-scheduler.types';
import { ClusterStats } from '../ports/cluster-stats.port';
import { select } from './sql';

@Injectable()
export class SqlClusterStats extends ClusterStats {
  constructor(
    private readonly ds: DataSource,
    private readonly config: GpuSchedulerConfig,
  ) {
    super();
  }

  async queues() {
    const rows = await select<{ tier: Tier; gpu_type: string; n: string; oldest: string | null }>(
      this.ds,
      `SELECT tier, gpu_type, count(*) AS n, min(queued_at_ms) AS oldest FROM gpu_tasks
        WHERE namespace = $1 AND status = 'QUEUED' GROUP BY tier, gpu_type`,
      [this.config.NAMESPACE],
    );
    return rows.map((q) => ({ tier: q.tier, gpuType: q.gpu_type, count: Number(q.n), oldestMs: q.oldest === null ? null : Number(q.oldest) }));
  }

  async gpuMsInWindow(nowMs: number, fromMs: number) {
    const [usage, running] = await Promise.all([
      select<{ tier: Tier; gpu_ms: string | null }>(
        this.ds,
        `SELECT tier, sum(gpu_count * (LEAST(end_ms, $2) - GREATEST(start_ms, $3))) AS gpu_ms FROM gpu_usage
          WHERE namespace = $1 AND end_ms > $3 GROUP BY tier`,
        [this.config.NAMESPACE, nowMs, fromMs],
      ),
      select<{ tier: Tier; gpu_ms: string | null }>(
        this.ds,
        `SELECT tier, sum(gpu_count * ($2 - GREATEST(COALESCE(started_at_ms, scheduled_at_ms), $3))) AS gpu_ms FROM gpu_tasks
          WHERE namespace = $1 AND status IN ('SCHEDULED', 'RUNNING') GROUP BY tier`,
        [this.config.NAMESPACE, nowMs, fromMs],
      ),
    ]);
    return [...usage, ...running].map((r) => ({ tier: r.tier, gpuMs: Number(r.gpu_ms ?? 0) }));
  }

  async predictionError() {
    const [p] = await select<{ samples: number; mae: number | null; mape: number | null; under: number | null }>(
      this.ds,
      `SELECT count(*)::int AS samples, avg(abs(predicted_sec - runtime_sec)) AS mae,
              avg(abs(predicted_sec - runtime_sec) / GREATEST(runtime_sec, 1)) AS mape,
              avg(CASE WHEN predicted_sec < runtime_sec THEN 1.0 ELSE 0.0 END) AS under
         FROM gpu_runtime_history WHERE namespace = $1 AND predicted_sec IS NOT NULL`,
      [this.config.NAMESPACE],
    );
    return { samples: p?.samples ?? 0, meanAbsErrorSec: Number(p?.mae ?? 0), meanAbsPctError: Number(p?.mape ?? 0), underPredictedFraction: Number(p?.under ?? 0) };
  }

  liveGpus() {
    return select<{ nodeId: string; gpuIndex: number; taskId: string }>(
      this.ds,
      `SELECT node_id AS "nodeId", gpu_index AS "gpuIndex", task_id AS "taskId" FROM gpu_allocations WHERE namespace = $1 AND released_at_ms IS NULL`,
      [this.config.NAMESPACE],
    );
  }

  async recentChanges(limit: number, scan: number) {
    const rows = await select<{ id: string; user_id: string; tier: string; status: TaskStatus; gpu_count: number; at_ms: string; reason: string | null }>(
      this.ds,
      `SELECT id, user_id, tier, status, gpu_count, reason,
              GREATEST(queued_at_ms, COALESCE(scheduled_at_ms, 0), COALESCE(started_at_ms, 0), COALESCE(finished_at_ms, 0)) AS at_ms
         FROM (SELECT * FROM gpu_tasks WHERE namespace = $1 ORDER BY id DESC LIMIT ${scan}) t
        ORDER BY at_ms DESC, id DESC LIMIT $2`,
      [this.config.NAMESPACE, limit],
    );
    return rows.map((r) => ({ taskId: r.id, userId: r.user_id, tier: r.tier, status: r.status, gpuCount: r.gpu_count, atMs: Number(r.at_ms), reason: r.reason }));
  }
}
