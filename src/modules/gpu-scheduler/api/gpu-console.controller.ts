import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { openSse } from '../../../platform/sse/sse-response';
import { ClusterViewService } from '../service/cluster-view.service';
import { RecentTasksQueryDto } from './gpu-console.dto';

/** Read views for operators (the web console's GPU page); no state changes here. */
@ApiTags('gpu-scheduler')
@Controller('api/v1/gpu')
export class GpuConsoleController {
  constructor(private readonly views: ClusterViewService) {}

  /** Every node with the task on each of its GPUs. */
  @RequireRole('client')
  @Get('grid')
  grid() {
    return this.views.grid();
  }

  /** The latest task state changes (among the newest 200 tasks), newest first. */
  @RequireRole('client')
  @Get('tasks/recent')
  recent(@Query() q: RecentTasksQueryDto) {
    return this.views.recent(q.limit ?? 20);
  }

  /**
   * Server-sent events, each sent when its view changed (checked once a second, one check shared
   * by every listener): `grid` (as GET /gpu/grid), `cluster` (GET /gpu/cluster without `at` and
   * `nodes`), `tasks` (GET /gpu/tasks/recent).
   */
  @RequireRole('client')
  @Get('cluster/stream')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream of `grid`, `cluster` and `tasks` events', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  async stream(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Fail before the stream starts (a proper problem response) when the store is unreachable.
    await this.views.grid();
    const stops: (() => void)[] = [];
    const sse = openSse(req, reply, () => stops.forEach((s) => s()));
    stops.push(
      this.views.feeds.subscribe('grid', () => this.views.grid().then(({ at: _at, ...g }) => g), (v) => sse.send('grid', v)),
      this.views.feeds.subscribe('cluster', () => this.views.summary(), (v) => sse.send('cluster', v)),
      this.views.feeds.subscribe('tasks', () => this.views.recent(20), (v) => sse.send('tasks', v)),
    );
  }
}
