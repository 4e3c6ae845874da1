import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { PolledFeeds } from '../../../platform/sse/polled-feed';
import type { NodeStatus } from '../domain';
import type { TaskStatus } from '../gpu-scheduler.types';
import { ClusterService } from './cluster.service';
import { select } from '../adapters/sql-rows';

/** One node of the grid: `tasks[i]` is the task holding GPU i (null when none). */
export interface GridNode {
  id: string;
  gpuType: string;
  status: NodeStatus;
  gpuCount: number;
  freeGpuIndices: number[];
  tasks: (string | null)[];
}

export interface RecentTask {
  taskId: string;
  userId: string;
  tier: string;
  status: TaskStatus;
  gpuCount: number;
  at: string;
  reason: string | null;
}

/** How many of the newest tasks the recent-activity list looks at (bounded: it runs every second). */
const RECENT_SCAN = 200;
const FEED_INTERVAL_MS = 1000;

/**
 * The operator's views of the cluster: which task holds each GPU, and the latest task state
 * changes; and the shared pollers behind GET /gpu/cluster/stream (one query per view per second
 * however many browsers watch, a push only when the view changed).
 */
@Injectable()
export class ClusterViewService implements OnModuleDestroy {
  readonly feeds = new PolledFeeds<unknown>('gpu-cluster-stream', FEED_INTERVAL_MS);

  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly cluster: ClusterService,
  ) {}

  onModuleDestroy(): void {
    this.feeds.close();
  }

  async grid(): Promise<{ at: string; nodes: GridNode[] }> {
    const ns = this.config.NAMESPACE;
    const [nodes, allocations] = await Promise.all([
      select<{ id: string; gpu_type: string; status: NodeStatus; gpu_count: number; free_gpus: number[] }>(
        this.ds,
        `SELECT id, gpu_type, status, gpu_count, free_gpus FROM gpu_nodes WHERE namespace = $1 ORDER BY id`,
        [ns],
      ),
      select<{ node_id: string; gpu_index: number; task_id: string }>(
        this.ds,
        `SELECT node_id, gpu_index, task_id FROM gpu_allocations WHERE namespace = $1 AND released_at_ms IS NULL`,
        [ns],
      ),
    ]);
    const byNode = new Map<string, (string | null)[]>();
    for (const n of nodes) byNode.set(n.id, new Array<string | null>(n.gpu_count).fill(null));
    for (const a of allocations) {
      const row = byNode.get(a.node_id);
      if (row && a.gpu_index < row.length) row[a.gpu_index] = a.task_id;
    }
    return {
      at: new Date().toISOString(),
      nodes: nodes.map((n) => ({
        id: n.id,
        gpuType: n.gpu_type,
        status: n.status,
        gpuCount: n.gpu_count,
        freeGpuIndices: n.free_gpus,
        tasks: byNode.get(n.id)!,
      })),
    };
  }

  /** The latest state change of the newest tasks, newest change first. */
  async recent(limit: number): Promise<{ items: RecentTask[] }> {
    const rows = await select<{
      id: string;
      user_id: string;
      tier: string;
      status: TaskStatus;
      gpu_count: number;
      at_ms: string;
      reason: string | null;
    }>(
      this.ds,
      `SELECT id, user_id, tier, status, gpu_count, reason,
              GREATEST(queued_at_ms, COALESCE(scheduled_at_ms, 0), COALESCE(started_at_ms, 0), COALESCE(finished_at_ms, 0)) AS at_ms
         FROM (SELECT * FROM gpu_tasks WHERE namespace = $1 ORDER BY id DESC LIMIT ${RECENT_SCAN}) t
        ORDER BY at_ms DESC, id DESC LIMIT $2`,
      [this.config.NAMESPACE, limit],
    );
    return {
      items: rows.map((r) => ({
        taskId: r.id,
        userId: r.user_id,
        tier: r.tier,
        status: r.status,
        gpuCount: r.gpu_count,
        at: new Date(Number(r.at_ms)).toISOString(),
        reason: r.reason,
      })),
    };
  }

  /** The snapshot without its clock field, so an unchanged cluster is not pushed every second. */
  async summary() {
    const { at: _at, nodes: _nodes, ...rest } = await this.cluster.snapshot();
    return rest;
  }
}
