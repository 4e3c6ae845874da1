import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { NodeRow, select } from '../adapters/sql-rows';

/**
 * total: GPUs of nodes in the pool (UNHEALTHY nodes are out); used: GPUs held by tasks; free: GPUs a
 * new task could get now (ACTIVE nodes only, so DRAINING/MAINTENANCE GPUs are neither free nor used).
 */
interface Capacity {
  total: number;
  free: number;
  used: number;
  utilization: number;
}

const cap = (total: number, free: number, used: number): Capacity => ({ total, free, used, utilization: total ? used / total : 0 });

/** GET /gpu/cluster: capacity per node and GPU type, queues per tier, and the quota window's shares. */
@Injectable()
export class ClusterService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async snapshot() {
    const ns = this.config.NAMESPACE;
    const now = this.clock.now();
    const windowMs = this.config.GPU_QUOTA_WINDOW_SEC * 1000;
    const from = now - windowMs;
    const [nodes, queues, usage, running, prediction] = await Promise.all([
      select<NodeRow>(this.ds, `SELECT * FROM gpu_nodes WHERE namespace = $1 ORDER BY id`, [ns]),
      select<{ tier: string; gpu_type: string; n: string; oldest: string | null }>(
        this.ds,
        `SELECT tier, gpu_type, count(*) AS n, min(queued_at_ms) AS oldest FROM gpu_tasks
          WHERE namespace = $1 AND status = 'QUEUED' GROUP BY tier, gpu_type`,
        [ns],
      ),
      select<{ tier: string; gpu_ms: string | null }>(
        this.ds,
        `SELECT tier, sum(gpu_count * (LEAST(end_ms, $2) - GREATEST(start_ms, $3))) AS gpu_ms FROM gpu_usage
          WHERE namespace = $1 AND end_ms > $3 GROUP BY tier`,
        [ns, now, from],
      ),
      select<{ tier: string; gpu_ms: string | null }>(
        this.ds,
        `SELECT tier, sum(gpu_count * ($2 - GREATEST(COALESCE(started_at_ms, scheduled_at_ms), $3))) AS gpu_ms FROM gpu_tasks
          WHERE namespace = $1 AND status IN ('SCHEDULED', 'RUNNING') GROUP BY tier`,
        [ns, now, from],
      ),
      // Prediction error over every finished task that had a prediction (the predictor's metric, from SQL).
      select<{ samples: number; mae: number | null; mape: number | null; under: number | null }>(
        this.ds,
        `SELECT count(*)::int AS samples, avg(abs(predicted_sec - runtime_sec)) AS mae,
                avg(abs(predicted_sec - runtime_sec) / GREATEST(runtime_sec, 1)) AS mape,
                avg(CASE WHEN predicted_sec < runtime_sec THEN 1.0 ELSE 0.0 END) AS under
           FROM gpu_runtime_history WHERE namespace = $1 AND predicted_sec IS NOT NULL`,
        [ns],
      ),
    ]);

    const inPool = (n: NodeRow) => n.status !== 'UNHEALTHY';
    const schedulableFree = (n: NodeRow) => (n.status === 'ACTIVE' ? n.free_gpus.length : 0);
    const used = (n: NodeRow) => n.gpu_count - n.free_gpus.length;
    const nodeCap = (n: NodeRow) => (inPool(n) ? cap(n.gpu_count, schedulableFree(n), used(n)) : cap(0, 0, 0));
    const byType: Record<string, Capacity & { nodes: number }> = {};
    const all = cap(0, 0, 0);
    for (const n of nodes) {
      const t = (byType[n.gpu_type] ??= { ...cap(0, 0, 0), nodes: 0 });
      t.nodes++;
      const c = nodeCap(n);
      for (const x of [t, all]) {
        x.total += c.total;
        x.free += c.free;
        x.used += c.used;
      }
    }
    for (const x of [...Object.values(byType), all]) x.utilization = x.total ? x.used / x.total : 0;

    const tiers = { vip: { length: 0, oldestWaitSec: 0 }, normal: { length: 0, oldestWaitSec: 0 } };
    const queueByType: Record<string, { vip: number; normal: number }> = {};
    for (const q of queues) {
      const tier = tiers[q.tier as 'vip' | 'normal'];
      tier.length += Number(q.n);
      if (q.oldest !== null) tier.oldestWaitSec = Math.max(tier.oldestWaitSec, (now - Number(q.oldest)) / 1000);
      (queueByType[q.gpu_type] ??= { vip: 0, normal: 0 })[q.tier as 'vip' | 'normal'] += Number(q.n);
    }

    const gpuHours = { vip: 0, normal: 0 };
    for (const r of [...usage, ...running]) gpuHours[r.tier as 'vip' | 'normal'] += Math.max(0, Number(r.gpu_ms ?? 0)) / 3_600_000;
    const sum = gpuHours.vip + gpuHours.normal;

    return {
      at: new Date(now).toISOString(),
      gpus: all,
      nodes: nodes.map((n) => ({
        id: n.id,
        gpuType: n.gpu_type,
        status: n.status,
        simulated: n.simulated,
        labels: n.labels ?? {},
        gpuMemoryGb: n.gpu_memory_gb,
        gpuCount: n.gpu_count,
        ...nodeCap(n),
        freeGpuIndices: n.free_gpus,
        gpuUsedMilli: n.gpu_used_milli,
        cpuMilli: n.cpu_milli,
        memoryMib: n.memory_mib,
        cpuUsedMilli: n.cpu_used_milli,
        memoryUsedMib: n.memory_used_mib,
        gpuUtilization: n.gpu_utilization,
        lastHeartbeatAt: new Date(Number(n.last_heartbeat_ms)).toISOString(),
      })),
      gpuTypes: byType,
      queues: { ...tiers, byGpuType: queueByType },
      quota: {
        windowSec: this.config.GPU_QUOTA_WINDOW_SEC,
        targetVipShare: this.config.GPU_VIP_SHARE,
        vipGpuHours: gpuHours.vip,
        normalGpuHours: gpuHours.normal,
        vipShare: sum ? gpuHours.vip / sum : null,
        normalShare: sum ? gpuHours.normal / sum : null,
      },
      runtimePrediction: {
        samples: prediction[0]?.samples ?? 0,
        meanAbsErrorSec: Number(prediction[0]?.mae ?? 0),
        meanAbsPctError: Number(prediction[0]?.mape ?? 0),
        underPredictedFraction: Number(prediction[0]?.under ?? 0),
      },
    };
  }
}
