import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import type { AgentReportEvent } from '../agent-protocol';
import type { Tier, UsageRecord } from '../domain';
import type { SubmitTaskInput, TaskStatus } from '../gpu-scheduler.types';
import type { StoredTask } from '../ports/gpu-rows';
import { NewTaskEvent, taskEventMessage } from '../ports/task-events.port';
import { RuntimeSample, TaskStore, TaskTx } from '../ports/task-store.port';
import { isRetryableSqlError, select, Sql, TASK_COLUMNS } from './sql';
import { releaseAllocations } from './sql-allocations';
import { Outbox } from '../../../platform/outbox/outbox';

class SqlTaskTx implements TaskTx {
  constructor(
    private readonly tx: Sql,
    private readonly config: GpuSchedulerConfig,
    private readonly outbox: Outbox,
  ) {}

  async lock(taskId: string): Promise<StoredTask | undefined> {
    const rows = await select<StoredTask>(this.tx, `SELECT ${TASK_COLUMNS} FROM gpu_tasks WHERE id = $1 AND namespace = $2 FOR UPDATE`, [taskId, this.config.NAMESPACE]);
    return rows[0];
  }

  async addReport(taskId: string, attempt: number, nodeId: string, event: AgentReportEvent, nowMs: number): Promise<boolean> {
    const fresh = await select(
      this.tx,
      `INSERT INTO gpu_task_reports (task_id, attempt, node_id, event, at_ms) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING task_id`,
      [taskId, attempt, nodeId, event, nowMs],
    );
    return fresh.length > 0;
  }

  async finalReports(taskId: string, attempt: number): Promise<Map<string, string>> {
    const rows = await select<{ node_id: string; event: string }>(
      this.tx,
      `SELECT node_id, event FROM gpu_task_reports WHERE task_id = $1 AND attempt = $2 AND event IN ('SUCCEEDED', 'FAILED', 'CANCELLED')`,
      [taskId, attempt],
    );
    return new Map(rows.map((r) => [r.node_id, r.event]));
  }

  async accept(taskId: string, nodeId: string, started: boolean, nowMs: number): Promise<void> {
    await this.tx.query(
      `UPDATE gpu_tasks SET accepted_nodes = CASE WHEN $2 = ANY(accepted_nodes) THEN accepted_nodes ELSE array_append(accepted_nodes, $2) END,
              status = CASE WHEN $3 THEN 'RUNNING' ELSE status END,
              started_at_ms = CASE WHEN $3 THEN $4::bigint ELSE started_at_ms END,
              version = version + 1
        WHERE id = $1`,
      [taskId, nodeId, started, nowMs],
    );
  }

  async requestCancel(taskId: string): Promise<void> {
    await this.tx.query(`UPDATE gpu_tasks SET cancel_requested = true, version = version + 1 WHERE id = $1`, [taskId]);
  }

  async finish(taskId: string, status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', nowMs: number, reason?: string, exitCode?: number): Promise<void> {
    await this.tx.query(
      `UPDATE gpu_tasks SET status = $2, finished_at_ms = $3, reason = COALESCE($4, reason), exit_code = COALESCE($5, exit_code),
              version = version + 1 WHERE id = $1`,
      [taskId, status, nowMs, reason ?? null, exitCode ?? null],
    );
  }

  async requeue(taskId: string, reason: string): Promise<void> {
    await this.tx.query(
      `UPDATE gpu_tasks SET status = 'QUEUED', placement = NULL, accepted_nodes = '{}', scheduled_at_ms = NULL, ack_deadline_ms = NULL,
              started_at_ms = NULL, reason = $2, version = version + 1 WHERE id = $1`,
      [taskId, reason],
    );
  }

  async addUsage(u: { taskId: string; attempt: number; tier: Tier; gpus: number; startMs: number; endMs: number }): Promise<void> {
    await this.tx.query(
      `INSERT INTO gpu_usage (namespace, task_id, attempt, tier, gpu_count, start_ms, end_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (task_id, attempt) DO NOTHING`,
      [this.config.NAMESPACE, u.taskId, u.attempt, u.tier, u.gpus, u.startMs, u.endMs],
    );
  }

  async addRuntime(r: { model: string | null; gpuCount: number; runtimeSec: number; predictedSec: number | null; nowMs: number }): Promise<void> {
    await this.tx.query(
      `INSERT INTO gpu_runtime_history (namespace, model, gpu_count, runtime_sec, predicted_sec, finished_at_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
      [this.config.NAMESPACE, r.model, r.gpuCount, r.runtimeSec, r.predictedSec, r.nowMs],
    );
  }

  release(taskId: string, attempt: number, nowMs: number, nodeId?: string) {
    return releaseAllocations(this.tx, this.config.NAMESPACE, taskId, attempt, nowMs, nodeId);
  }

  event(e: NewTaskEvent, nowMs: number): Promise<void> {
    return this.outbox.append(this.tx, taskEventMessage(this.config, e, nowMs));
  }
}

@Injectable()
export class SqlTaskStore extends TaskStore {
  constructor(
    private readonly ds: DataSource,
    private readonly config: GpuSchedulerConfig,
    private readonly outbox: Outbox,
  ) {
    super();
  }

  async transaction<T>(fn: (tx: TaskTx) => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await this.ds.transaction((tx) => fn(new SqlTaskTx(tx, this.config, this.outbox)));
      } catch (e) {
        if (i < 4 && isRetryableSqlError(e)) continue;
        throw e;
      }
    }
  }

  async insert(id: string, input: SubmitTaskInput, nowMs: number, predictedSec: number, event: NewTaskEvent): Promise<void> {
    await this.ds.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO gpu_tasks (id, namespace, user_id, tier, gpu_type, gpu_count, gpu_memory_gb, estimated_runtime_sec, model, command,
                                on_node_failure, status, queued_at_ms, predicted_runtime_sec, gpu_milli, cpu_milli, memory_mib, gang_placement)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'QUEUED', $12, $13, $14, $15, $16, $17)`,
        [id, this.config.NAMESPACE, input.userId, input.tier, input.gpuType, input.gpuCount, input.gpuMemoryGb, input.estimatedRuntimeSec ?? null, input.model ?? null,
          input.command ?? null, input.onNodeFailure ?? 'fail', nowMs, predictedSec, input.gpuMilli ?? null, input.cpuMilli ?? null, input.memoryMib ?? null,
          input.gangPlacement ?? null],
      );
      await this.outbox.append(tx, taskEventMessage(this.config, event, nowMs));
    });
  }

  async get(taskId: string): Promise<StoredTask | undefined> {
    return (await select<StoredTask>(this.ds, `SELECT ${TASK_COLUMNS} FROM gpu_tasks WHERE id = $1 AND namespace = $2`, [taskId, this.config.NAMESPACE]))[0];
  }

  async queuePosition(t: StoredTask): Promise<number> {
    const ahead = await select<{ n: string }>(
      this.ds,
      `SELECT count(*) AS n FROM gpu_tasks WHERE namespace = $1 AND status = 'QUEUED' AND tier = $2
          AND (queued_at_ms < $3 OR (queued_at_ms = $3 AND id < $4))`,
      [this.config.NAMESPACE, t.tier, t.queuedAtMs, t.id],
    );
    return Number(ahead[0].n) + 1;
  }

  list(q: { userId?: string; status?: TaskStatus; after: string | null; limit: number }): Promise<StoredTask[]> {
    return select<StoredTask>(
      this.ds,
      `SELECT ${TASK_COLUMNS} FROM gpu_tasks WHERE namespace = $1 AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR status = $3)
          AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5`,
      [this.config.NAMESPACE, q.userId ?? null, q.status ?? null, q.after, q.limit],
    );
  }

  async recentRuntimes(model: string, gpuCount: number, limit: number): Promise<number[]> {
    const rows = await select<{ runtime_sec: number }>(
      this.ds,
      `SELECT runtime_sec FROM gpu_runtime_history WHERE namespace = $1 AND model = $2 AND gpu_count = $3 ORDER BY seq DESC LIMIT $4`,
      [this.config.NAMESPACE, model, gpuCount, limit],
    );
    return rows.map((r) => r.runtime_sec);
  }

  runtimesSince(seq: string, limit: number): Promise<RuntimeSample[]> {
    return select<RuntimeSample>(
      this.ds,
      `SELECT seq, model, gpu_count AS "gpuCount", runtime_sec AS "runtimeSec", predicted_sec AS "predictedSec" FROM gpu_runtime_history
        WHERE namespace = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [this.config.NAMESPACE, seq, limit],
    );
  }

  queued(limit: number): Promise<StoredTask[]> {
    return select<StoredTask>(
      this.ds,
      `SELECT ${TASK_COLUMNS} FROM gpu_tasks WHERE namespace = $1 AND status = 'QUEUED' AND NOT cancel_requested ORDER BY queued_at_ms, id LIMIT $2`,
      [this.config.NAMESPACE, limit],
    );
  }

  live(): Promise<StoredTask[]> {
    return select<StoredTask>(this.ds, `SELECT ${TASK_COLUMNS} FROM gpu_tasks WHERE namespace = $1 AND status IN ('SCHEDULED', 'RUNNING')`, [this.config.NAMESPACE]);
  }

  async usageSince(fromMs: number): Promise<UsageRecord[]> {
    const rows = await select<{ tier: Tier; gpu_count: number | string; start_ms: string; end_ms: string }>(
      this.ds,
      `SELECT tier, gpu_count, start_ms, end_ms FROM gpu_usage WHERE namespace = $1 AND end_ms > $2`,
      [this.config.NAMESPACE, fromMs],
    );
    return rows.map((u) => ({ tier: u.tier, gpuCount: Number(u.gpu_count), start: Number(u.start_ms) / 1000, end: Number(u.end_ms) / 1000 }));
  }

  unacknowledged(nowMs: number): Promise<{ id: string; attempt: number }[]> {
    return select<{ id: string; attempt: number }>(
      this.ds,
      `SELECT id, attempt FROM gpu_tasks WHERE namespace = $1 AND status IN ('SCHEDULED', 'RUNNING') AND ack_deadline_ms < $2
          AND cardinality(accepted_nodes) < jsonb_array_length(placement)`,
      [this.config.NAMESPACE, nowMs],
    );
  }

  holding(nodeId: string): Promise<{ taskId: string; attempt: number }[]> {
    return select<{ taskId: string; attempt: number }>(
      this.ds,
      `SELECT DISTINCT task_id AS "taskId", attempt FROM gpu_allocations WHERE namespace = $1 AND node_id = $2 AND released_at_ms IS NULL`,
      [this.config.NAMESPACE, nodeId],
    );
  }
}
