import { Injectable } from '@nestjs/common';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { Clock } from '../../../platform/clock/clock';
import { StoredNode, toNodeView } from '../ports/gpu-rows';
import { ClusterStats } from '../ports/cluster-stats.port';
import { NodeStore } from '../ports/node-store.port';

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
    private readonly nodes: NodeStore,
    private readonly stats: ClusterStats,
    private readonly clock: Clock,
    private readonly config: GpuSchedulerConfig,
  ) {}

  async snapshot() {
    const now = this.clock.now();
    const windowMs = this.config.GPU_QUOTA_WINDOW_SEC * 1000;
    const [nodes, queues, windowUse, prediction] = await Promise.all([
      this.nodes.list(),
      this.stats.queues(),
      this.stats.gpuMsInWindow(now, now - windowMs),
      this.stats.predictionError(),
    ]);

    const inPool = (n: StoredNode) => n.status !== 'UNHEALTHY';
    const schedulableFree = (n: StoredNode) => (n.status === 'ACTIVE' ? n.freeGpus.length : 0);
    const used = (n: StoredNode) => n.gpuCount - n.freeGpus.length;
    const nodeCap = (n: StoredNode) => (inPool(n) ? cap(n.gpuCount, schedulableFree(n), used(n)) : cap(0, 0, 0));
    const byType: Record<string, Capacity & { nodes: number }> = {};
    const all = cap(0, 0, 0);
    for (const n of nodes) {
      const t = (byType[n.gpuType] ??= { ...cap(0, 0, 0), nodes: 0 });
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
      const tier = tiers[q.tier];
      tier.length += q.count;
      if (q.oldestMs !== null) tier.oldestWaitSec = Math.max(tier.oldestWaitSec, (now - q.oldestMs) / 1000);
      (queueByType[q.gpuType] ??= { vip: 0, normal: 0 })[q.tier] += q.count;
    }

    const gpuHours = { vip: 0, normal: 0 };
    for (const r of windowUse) gpuHours[r.tier] += Math.max(0, r.gpuMs) / 3_600_000;
    const sum = gpuHours.vip + gpuHours.normal;

    return {
      at: new Date(now).toISOString(),
      gpus: all,
      nodes: nodes.map((n) => {
        const { registeredAt: _registeredAt, ...view } = toNodeView(n);
        return { ...view, ...nodeCap(n), gpuUtilization: n.gpuUtilization };
      }),
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
      runtimePrediction: prediction,
    };
  }
}
