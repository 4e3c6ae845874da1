import { Injectable } from '@nestjs/common';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { Clock } from '../../../platform/clock/clock';
import { IdempotencyStore, requireIdempotencyKey } from '../../../platform/idempotency/idempotency-store';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { infeasibility, requestProblem, RuntimePredictor, Task } from '../domain';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';
import { SubmitTaskInput, TaskStatus, TaskView } from '../gpu-scheduler.types';
import { toDomainNode, toTaskView } from '../ports/gpu-rows';
import { NodeStore } from '../ports/node-store.port';
import { Outbox } from '../../../platform/outbox/outbox';
import { TaskStore } from '../ports/task-store.port';
import { CycleTrigger } from './cycle-trigger';

/** Finished runtimes the submit-time prediction looks at (the predictor's history size). */
const HISTORY_SIZE = 101;

/** Submit, read and list tasks. State changes after submit live in TaskLifecycle. */
@Injectable()
export class TaskService {
  constructor(
    private readonly idempotency: IdempotencyStore,
    private readonly tasks: TaskStore,
    private readonly nodes: NodeStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: GpuSchedulerConfig,
    private readonly outbox: Outbox,
    private readonly trigger: CycleTrigger,
  ) {}

  async submit(input: SubmitTaskInput, key: string | undefined): Promise<{ taskId: string; status: 'QUEUED' }> {
    requireIdempotencyKey(key);
    // Each field is range-checked by the DTO; this is the cross-field rule (a share needs gpuCount 1).
    const malformed = requestProblem(input);
    if (malformed) throw new GpuError('invalid', GpuCode.InvalidShare, malformed, { errors: [{ field: 'gpuMilli', message: malformed }] });
    // No takeover of a stale in-flight key: a task submit has no intent id to recover a crashed attempt by.
    return this.idempotency.run({ scope: `gpu:${this.config.NAMESPACE}:submit`, key, request: input, run: () => this.create(input) });
  }

  private async create(input: SubmitTaskInput): Promise<{ taskId: string; status: 'QUEUED' }> {
    const why = infeasibility(input, (await this.nodes.list()).map(toDomainNode));
    if (why) throw new GpuError('unprocessable', GpuCode.Unsatisfiable, why, { reason: why });
    const id = this.ids.next();
    const now = this.clock.now();
    await this.tasks.insert(id, input, now, await this.predict(input), {
      type: 'QUEUED',
      taskId: id,
      attempt: 0,
      status: 'QUEUED',
      userId: input.userId,
      tier: input.tier,
      placement: [],
    });
    this.outbox.poke();
    this.trigger.request();
    return { taskId: id, status: 'QUEUED' };
  }

  /** The scheduler's runtime prediction for a new task, from the finished runs of the same model + gpuCount. */
  private async predict(input: SubmitTaskInput): Promise<number> {
    const task = { model: input.model, gpuCount: input.gpuCount, estimatedRuntimeSec: input.estimatedRuntimeSec } as Task;
    const predictor = new RuntimePredictor({ defaultRuntimeSec: this.config.GPU_DEFAULT_RUNTIME_SEC, historySize: HISTORY_SIZE });
    if (input.model !== undefined) for (const s of (await this.tasks.recentRuntimes(input.model, input.gpuCount, HISTORY_SIZE)).reverse()) predictor.observe(task, s);
    return predictor.predict(task);
  }

  async get(taskId: string): Promise<TaskView> {
    const t = await this.tasks.get(taskId);
    if (!t) throw new GpuError('not_found', GpuCode.TaskNotFound, `task ${taskId} not found`);
    return toTaskView(t, t.status === 'QUEUED' ? await this.tasks.queuePosition(t) : null);
  }

  /** Newest first; the cursor is the last id of the previous page (ids are time-ordered UUIDv7). */
  async list(q: { userId?: string; status?: TaskStatus; cursor?: string; limit?: number }): Promise<{ items: TaskView[]; nextCursor: string | null }> {
    const limit = q.limit ?? 50;
    let after: string | null = null;
    if (q.cursor !== undefined) {
      after = Buffer.from(q.cursor, 'base64url').toString('utf8');
      if (!/^[0-9a-f-]{36}$/.test(after)) throw new GpuError('invalid', GpuCode.InvalidCursor, 'cursor is not one this API returned');
    }
    const rows = await this.tasks.list({ userId: q.userId, status: q.status, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? Buffer.from(page[page.length - 1].id, 'utf8').toString('base64url') : null;
    return { items: page.map((r) => toTaskView(r)), nextCursor };
  }
}
