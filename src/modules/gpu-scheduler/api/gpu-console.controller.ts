import { Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { LiveFeeds } from '../../../platform/sse/live-feeds';
import { ClusterViewService } from '../application/cluster-view.service';
import { RecentTasksQueryDto } from './gpu-console.dto';
import { GridView, RecentTasksView } from './gpu-console.responses';

const GRID_EXAMPLE = { nodes: [{ id: 'node-1', gpuType: 'A100', status: 'ACTIVE', gpuCount: 4, freeGpuIndices: [2, 3], tasks: ['0193…a1', '0193…a1', null, null] }] };
const RECENT_EXAMPLE = { items: [{ taskId: '0193…a1', userId: 'u1', tier: 'vip', status: 'RUNNING', gpuCount: 2, at: '2026-11-30T13:02:00.000Z', reason: null }] };

/** Read views for operators (the web console's GPU page); no state changes here. */
@ApiController('gpu-scheduler', 'api/v1/gpu')
export class GpuConsoleController {
  constructor(
    private readonly views: ClusterViewService,
    private readonly live: LiveFeeds,
  ) {}

  @Endpoint('GET grid', 'client', 'GPU grid: the task on every GPU', {
    description: 'Every node with its status and, for each GPU index, the task holding it (null when none).',
    responses: [{ status: 200, description: 'the grid', type: GridView, example: { at: '2026-11-30T13:02:00.000Z', ...GRID_EXAMPLE } }],
  })
  grid() {
    return this.views.grid();
  }

  @Endpoint('GET tasks/recent', 'client', 'Recent task state changes', {
    description: 'The latest state change of the newest 200 tasks, newest change first.',
    responses: [{ status: 200, description: 'the changes', type: RecentTasksView, example: RECENT_EXAMPLE }],
  })
  recent(@Query() q: RecentTasksQueryDto) {
    return this.views.recent(q.limit ?? 20);
  }

  @Endpoint('GET cluster/stream', 'client', 'Live cluster views (server-sent events)', {
    description:
      'A `text/event-stream` of `grid` (as GET /gpu/grid without `at`), `cluster` (GET /gpu/cluster without `at` and `nodes`) and `tasks` ' +
      '(GET /gpu/tasks/recent) events, each sent first on connect and then whenever that view changed (checked once a second, one check ' +
      'shared by every listener), and a comment line every 15 s.',
    responses: [
      {
        status: 200,
        description: 'the event stream',
        contentType: 'text/event-stream',
        schema: { type: 'string' },
        example: `: connected\n\nevent: grid\ndata: ${JSON.stringify(GRID_EXAMPLE)}\n\nevent: tasks\ndata: ${JSON.stringify(RECENT_EXAMPLE)}\n\n`,
      },
    ],
  })
  async stream(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Fail before the stream starts (a proper problem response) when the store is unreachable.
    await this.views.grid();
    this.live.stream(req, reply, {
      grid: { key: 'gpu:grid', load: () => this.views.grid().then(({ at: _at, ...g }) => g) },
      cluster: { key: 'gpu:cluster', load: () => this.views.summary() },
      tasks: { key: 'gpu:tasks', load: () => this.views.recent(20) },
    });
  }
}
