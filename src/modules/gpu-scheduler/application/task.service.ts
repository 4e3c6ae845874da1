import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { infeasibility, requestProblem } from '../domain';
import { GpuCode, GpuError, taskNotFound } from '../gpu-scheduler.errors';
import { SubmitTaskInput, TaskStatus, TaskView } from '../gpu-scheduler.types';
import { CycleTrigger } from './cycle-trigger';
import { idempotent, requireIdempotencyKey } from './idempotency';
import { select, TaskRow, toTaskView } from '../adapters/sql-rows';
import { TaskEvents } from '../adapters/sql-task-outbox';

const HISTORY_SIZE = 101;

/** Submit, read and list tasks. State changes after submit live in TaskLifecycle. */
@Injectable()
export class TaskService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: AppConfig,
    private readonly events: TaskEvents,
    private readonly trigger: CycleTrigger,
  ) {}

  private get ns(): string {
    return this.config.NAMESPACE;
  }

  async submit(input: SubmitTaskInput, key: string | undefined): Promise<{ taskId: string; status: 'QUEUED' }> {
    const k = requireIdempotencyKey(key);
    // Each field is range-checked by the DTO; this is the cross-field rule (a share needs gpuCount 1).
    const malformed = requestProblem(input);
    if (malformed) throw new GpuError('invalid', GpuCode.InvalidShare, malformed, { errors: [{ field: 'gpuMilli', message: malformed }] });
    return idempotent(this.ds, `gpu:${this.ns}:submit`, k, input, () => this.create(input));
  }

  private async create(input: SubmitTaskInput): Promise<{ taskId: string; status: 'QUEUED' }> {
    const rows = await select<{ gpuType: string; gpuCount: number; gpuMemoryGb: number; cpuMilli: number | null; memoryMib: number | null }>(
      this.ds,
      `SELECT gpu_type AS "gpuType", gpu_count AS "gpuCount", gpu_memory_gb AS "gpuMemoryGb", cpu_milli AS "cpuMilli", memory_mib AS "memoryMib"
         FROM gpu_nodes WHERE namespace = $1`,
      [this.ns],
    );
    const nodes = rows.map((n) => ({ ...n, cpuMilli: n.cpuMilli ?? undefined, memoryMib: n.memoryMib ?? undefined }));
    const why = infeasibility(input, nodes);
    if (why) throw new GpuError('unprocessable', GpuCode.Unsatisfiable, why, { reason: why });
    const id = this.ids.next();
    const now = this.clock.now();
    const predicted = (await this.historyMedian(input.model, input.gpuCount)) ?? input.estimatedRuntimeSec ?? this.config.GPU_DEFAULT_RUNTIME_SEC;
    await this.ds.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO gpu_tasks (id, namespace, user_id, tier, gpu_type, gpu_count, gpu_memory_gb, estimated_runtime_sec, model, command,
                                on_node_failure, status, queued_at_ms, predicted_runtime_sec, gpu_milli, cpu_milli, memory_mib, gang_placement)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'QUEUED', $12, $13, $14, $15, $16, $17)`,
        [
          id,
          this.ns,
          input.userId,
          input.tier,
          input.gpuType,
          input.gpuCount,
          input.gpuMemoryGb,
          input.estimatedRuntimeSec ?? null,
          input.model ?? null,
          input.command ?? null,
          input.onNodeFailure ?? 'fail',
          now,
          predicted,
          input.gpuMilli ?? null,
          input.cpuMilli ?? null,
          input.memoryMib ?? null,
          input.gangPlacement ?? null,
        ],
      );
      await this.events.record(
        tx,
        { type: 'QUEUED', taskId: id, attempt: 0, status: 'QUEUED', userId: input.userId, tier: input.tier, placement: [] },
        now,
      );
    });
    void this.events.flush();
    this.trigger.request();
    return { taskId: id, status: 'QUEUED' };
  }

  /** Median of the last finished runtimes of the same model + gpuCount (the predictor's rule, in SQL). */
  private async historyMedian(model: string | undefined, gpuCount: number): Promise<number | undefined> {
    if (model === undefined) return undefined;
    const rows = await select<{ m: number | null }>(
      this.ds,
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY runtime_sec) AS m FROM (
         SELECT runtime_sec FROM gpu_runtime_history WHERE namespace = $1 AND model = $2 AND gpu_count = $3 ORDER BY seq DESC LIMIT ${HISTORY_SIZE}) h`,
      [this.ns, model, gpuCount],
    );
    return rows[0]?.m ?? undefined;
  }

  async get(taskId: string): Promise<TaskView> {
    const rows = await select<TaskRow>(this.ds, `SELECT * FROM gpu_tasks WHERE id = $1 AND namespace = $2`, [taskId, this.ns]);
    const t = rows[0];
    if (!t) throw taskNotFound(taskId);
    let position: number | null = null;
    if (t.status === 'QUEUED') {
      const ahead = await select<{ n: string }>(
        this.ds,
        `SELECT count(*) AS n FROM gpu_tasks WHERE namespace = $1 AND status = 'QUEUED' AND tier = $2
            AND (queued_at_ms < $3 OR (queued_at_ms = $3 AND id < $4))`,
        [this.ns, t.tier, t.queued_at_ms, t.id],
      );
      position = Number(ahead[0].n) + 1;
    }
    return toTaskView(t, position);
  }

  /** Newest first; the cursor is the last id of the previous page (ids are time-ordered UUIDv7). */
  async list(q: { userId?: string; status?: TaskStatus; cursor?: string; limit?: number }): Promise<{ items: TaskView[]; nextCursor: string | null }> {
    const limit = q.limit ?? 50;
    let after: string | null = null;
    if (q.cursor !== undefined) {
      after = Buffer.from(q.cursor, 'base64url').toString('utf8');
      if (!/^[0-9a-f-]{36}$/.test(after)) throw new GpuError('invalid', GpuCode.InvalidCursor, 'cursor is not one this API returned');
    }
    const rows = await select<TaskRow>(
      this.ds,
      `SELECT * FROM gpu_tasks WHERE namespace = $1 AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR status = $3)
          AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5`,
      [this.ns, q.userId ?? null, q.status ?? null, after, limit + 1],
    );
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? Buffer.from(page[page.length - 1].id, 'utf8').toString('base64url') : null;
    return { items: page.map((r) => toTaskView(r)), nextCursor };
  }
}
