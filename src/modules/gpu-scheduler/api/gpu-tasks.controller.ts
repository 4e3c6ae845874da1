import { Body, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../../../platform/auth/api-key.guard';
import { roleSatisfies } from '../../../platform/auth/roles.decorator';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';
import { ApiController, Endpoint, linksTo } from '../../../platform/openapi';
import { IDEMPOTENCY_KEY_PATTERN } from '../../../platform/idempotency/idempotency-store';
import { TaskLifecycle } from '../application/task-lifecycle.service';
import { TaskService } from '../application/task.service';
import { ListTasksQueryDto, ReportDto, SubmitTaskDto } from './gpu.dto';
import { ReportResult, TaskAccepted, TaskPage, TaskView } from './gpu.responses';

const TASK_ID = '01a22c8e-0295-7194-b5f3-4284241a6c08';
const TASK_EXAMPLE = { taskId: TASK_ID, userId: 'user-1', tier: 'normal', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 40, estimatedRuntimeSec: null, model: null, command: null, onNodeFailure: 'fail', gpuMilli: null, cpuMilli: null, memoryMib: null, gangPlacement: null, status: 'RUNNING', attempt: 1, placement: [{ nodeId: 'node-1', gpuIndices: [0] }], cancelRequested: false, backfilled: false, queuedAt: '2026-11-30T13:03:54.005Z', scheduledAt: '2026-11-30T13:03:54.024Z', startedAt: '2026-11-30T13:03:54.085Z', finishedAt: null, predictedRuntimeSec: 3600, queuePosition: null, exitCode: null, reason: null };
const TASK = { taskId: '$request.path.taskId' };

@ApiController('gpu-scheduler', 'api/v1')
export class GpuTasksController {
  constructor(
    private readonly tasks: TaskService,
    private readonly lifecycle: TaskLifecycle,
  ) {}

  @Endpoint('POST tasks', 'client', 'Submit a GPU task', {
    requestExample: { userId: 'user-1', tier: 'normal', gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 40, estimatedRuntimeSec: 600 },
    description:
      'Queues a task for `gpuCount` GPUs of `gpuType` (alternatives `A100|H100`, or `*`) with `gpuMemoryGb` each; VIP and normal tiers share by quota, gangs are placed whole. ' +
      'A share of one GPU: `gpuMilli` 1-1000 with `gpuCount` 1 (else 400 `invalid_share`); `cpuMilli` and `memoryMib` are counted against nodes that declare theirs; ' +
      "`gangPlacement` 'single-node' never splits a gang. " +
      'The same Idempotency-Key returns the same task; with a different body it is 422.',
    responses: [{
      status: 202, description: 'queued', type: TaskAccepted, example: { taskId: TASK_ID, status: 'QUEUED' },
      links: linksTo({ taskId: '$response.body#/taskId' }, { GetTask: 'GpuTasksController_get', CancelTask: 'GpuTasksController_cancel' }),
    }],
    errorNotes: {
      409: 'the same Idempotency-Key is still in progress',
      403: 'a client key set `command` (`command_forbidden`)',
      422: 'no node could ever run it (`unsatisfiable`), or the key was used with a different request (`idempotency_key_reused`)',
    },
  })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a retry with the same key returns the same task', schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source } })
  submit(@Body() dto: SubmitTaskDto, @Req() req: AuthenticatedRequest, @Headers('idempotency-key') key?: string) {
    // A command runs on a GPU machine: only operators' keys may name one (agents also allow-list it).
    if (dto.command !== undefined && !roleSatisfies(req.apiRole ?? 'client', 'service')) {
      throw new GpuError('forbidden', GpuCode.CommandForbidden, 'only service or admin keys may set a task command');
    }
    return this.tasks.submit(dto, key);
  }

  @Endpoint('GET tasks', 'client', 'List GPU tasks', {
    description: 'Tasks newest first, filtered by user and status, a page at a time (`limit` default 50, then `cursor`).',
    responses: [{ status: 200, description: 'a page of tasks', type: TaskPage, example: { items: [TASK_EXAMPLE], nextCursor: null } }],
  })
  list(@Query() q: ListTasksQueryDto) {
    return this.tasks.list(q);
  }

  @Endpoint('GET tasks/:taskId', 'client', 'Read a GPU task', {
    description: 'Status, placement (node and GPU indices), times, queue position and outcome.',
    responses: [{ status: 200, description: 'the task', type: TaskView, example: TASK_EXAMPLE }],
  })
  get(@Param('taskId') taskId: string) {
    return this.tasks.get(taskId);
  }

  /** 200 with the CANCELLED task when it had not started; 202 when its agents were asked to stop it. */
  @Endpoint('DELETE tasks/:taskId', 'client', 'Cancel a GPU task', {
    description: '200 with the CANCELLED task when it had not started; 202 when its agents were asked to stop it.',
    responses: [
      { status: 200, description: 'cancelled', type: TaskView, example: { ...TASK_EXAMPLE, status: 'CANCELLED', placement: [], startedAt: null } },
      { status: 202, description: 'stopping', type: TaskView, example: { ...TASK_EXAMPLE, cancelRequested: true } },
    ],
    errorNotes: { 409: 'the task already finished (`task_finished`)' },
  })
  async cancel(@Param('taskId') taskId: string, @Res({ passthrough: true }) res: FastifyReply) {
    const { accepted, view } = await this.lifecycle.cancel(taskId);
    void res.status(accepted ? 202 : 200);
    return view;
  }

  /** Agent → scheduler (see agent-protocol.ts). */
  @Endpoint('POST gpu/tasks/:taskId/report', 'service', 'Agent report on a task', {
    requestExample: { nodeId: 'node-1', attempt: 1, event: 'STARTED' },
    description: 'A node agent reports ACCEPTED, STARTED, SUCCEEDED, FAILED or CANCELLED for an attempt; stale or repeated reports change nothing and say why.',
    responses: [{
      status: 200, description: 'the task after the report', type: ReportResult, example: { taskId: TASK_ID, status: 'RUNNING', attempt: 1 },
      links: { GetTask: { operationId: 'GpuTasksController_get', parameters: TASK } },
    }],
  })
  report(@Param('taskId') taskId: string, @Body() dto: ReportDto) {
    return this.lifecycle.report(taskId, dto);
  }
}
