import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../../../platform/auth/api-key.guard';
import { RequireRole, roleSatisfies } from '../../../platform/auth/roles.decorator';
import { AppError } from '../../../platform/errors/app-error';
import { TaskLifecycle } from '../service/task-lifecycle';
import { TaskService } from '../service/task.service';
import { ListTasksQueryDto, ReportDto, SubmitTaskDto } from './gpu.dto';

@ApiTags('gpu-scheduler')
@Controller('api/v1')
export class GpuTasksController {
  constructor(
    private readonly tasks: TaskService,
    private readonly lifecycle: TaskLifecycle,
  ) {}

  @RequireRole('client')
  @ApiHeader({ name: 'Idempotency-Key', required: true })
  @HttpCode(202)
  @Post('tasks')
  submit(@Body() dto: SubmitTaskDto, @Req() req: AuthenticatedRequest, @Headers('idempotency-key') key?: string) {
    // A command runs on a GPU machine: only operators' keys may name one (agents also allow-list it).
    if (dto.command !== undefined && !roleSatisfies(req.apiRole ?? 'client', 'service')) {
      throw new AppError('forbidden', 'command_forbidden', 'only service or admin keys may set a task command');
    }
    return this.tasks.submit(dto, key);
  }

  @RequireRole('client')
  @Get('tasks')
  list(@Query() q: ListTasksQueryDto) {
    return this.tasks.list(q);
  }

  @RequireRole('client')
  @Get('tasks/:taskId')
  get(@Param('taskId') taskId: string) {
    return this.tasks.get(taskId);
  }

  /** 200 with the CANCELLED task when it had not started; 202 when its agents were asked to stop it. */
  @RequireRole('client')
  @Delete('tasks/:taskId')
  async cancel(@Param('taskId') taskId: string, @Res({ passthrough: true }) res: FastifyReply) {
    const { accepted, view } = await this.lifecycle.cancel(taskId);
    void res.status(accepted ? 202 : 200);
    return view;
  }

  /** Agent → scheduler (see agent-protocol.ts). */
  @RequireRole('service')
  @HttpCode(200)
  @Post('gpu/tasks/:taskId/report')
  report(@Param('taskId') taskId: string, @Body() dto: ReportDto) {
    return this.lifecycle.report(taskId, dto);
  }
}
