import { Injectable } from '@nestjs/common';
import { ClusterService } from './cluster.service';
import { ClusterStats } from '../ports/cluster-stats.port';
import { NodeStore } from '../ports/node-store.port';

/** How many of the newest tasks the recent-activity list looks at (bounded: it runs every second). */
const RECENT_SCAN = 200;

/** The operator's views of the cluster: which task holds each GPU, and the latest task state changes. */
@Injectable()
export class ClusterViewService {
  constructor(
    private readonly nodes: NodeStore,
    private readonly stats: ClusterStats,
    private readonly cluster: ClusterService,
  ) {}

  /** Every node with `tasks[i]`, the task holding GPU i (null when none). */
  async grid() {
    const [nodes, allocations] = await Promise.all([this.nodes.list(), this.stats.liveGpus()]);
    const byNode = new Map<string, (string | null)[]>();
    for (const n of nodes) byNode.set(n.id, new Array<string | null>(n.gpuCount).fill(null));
    for (const a of allocations) {
      const row = byNode.get(a.nodeId);
      if (row && a.gpuIndex < row.length) row[a.gpuIndex] = a.taskId;
    }
    return {
      at: new Date().toISOString(),
      nodes: nodes.map((n) => ({
        id: n.id,
        gpuType: n.gpuType,
        status: n.status,
        gpuCount: n.gpuCount,
        freeGpuIndices: n.freeGpus,
        tasks: byNode.get(n.id)!,
      })),
    };
  }

  /** The latest state change of the newest tasks, newest change first. */
  async recent(limit: number) {
    const rows = await this.stats.recentChanges(limit, RECENT_SCAN);
    return { items: rows.map(({ atMs, ...r }) => ({ ...r, at: new Date(atMs).toISOString() })) };
  }

  /** The snapshot without its clock field, so an unchanged cluster is not pushed every second. */
  async summary() {
    const { at: _at, nodes: _nodes, ...rest } = await this.cluster.snapshot();
    return rest;
  }
}
