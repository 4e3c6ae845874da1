import { Module, OnModuleInit } from '@nestjs/common';
import { ModuleTopics } from '../../platform/messaging/module-topics';
import { GpuConsoleController } from './api/gpu-console.controller';
import { GpuNodesController } from './api/gpu-nodes.controller';
import { GpuTasksController } from './api/gpu-tasks.controller';
import { AgentModule } from './agent/agent.module';
import { ClusterViewService } from './application/cluster-view.service';
import { ClusterService } from './application/cluster.service';
import { CycleTrigger } from './application/cycle-trigger';
import { NodeService } from './application/node.service';
import { SchedulerLoop } from './application/scheduler-loop.service';
import { SchedulerService } from './application/scheduler.service';
import { TaskEvents } from './adapters/sql-task-outbox';
import { TaskLifecycle } from './application/task-lifecycle.service';
import { TaskService } from './application/task.service';

/** Seed design notes for this module: see docs/gpu-scheduler.md. Its public surface is ./index.ts. */
@Module({
  imports: [AgentModule],
  controllers: [GpuTasksController, GpuNodesController, GpuConsoleController],
  providers: [TaskEvents, CycleTrigger, TaskService, TaskLifecycle, NodeService, ClusterService, ClusterViewService, SchedulerService, SchedulerLoop],
  exports: [TaskService, TaskLifecycle, NodeService, SchedulerService, SchedulerLoop],
})
export class GpuSchedulerModule implements OnModuleInit {
  static readonly TOPICS = ['gpu.tasks'];

  constructor(private readonly topics: ModuleTopics) {}

  onModuleInit(): Promise<void> {
    return this.topics.ensure(GpuSchedulerModule.TOPICS);
  }
}
