import { Module } from '@nestjs/common';
import { CreatesTopics } from '../../platform/messaging/module-topics';
import { OutboxModule } from '../../platform/outbox/outbox';
import { SqlBinder } from './adapters/sql-binder';
import { SqlClusterStats } from './adapters/sql-cluster-stats';
import { SqlLeaderLease } from './adapters/sql-leader-lease';
import { SqlNodeStore } from './adapters/sql-node-store';
import { SqlTaskStore } from './adapters/sql-task-store';
import { AgentModule } from './agent/agent.module';
import { GpuConsoleController } from './api/gpu-console.controller';
import { GpuNodesController } from './api/gpu-nodes.controller';
import { GpuTasksController } from './api/gpu-tasks.controller';
import { ClusterViewService } from './application/cluster-view.service';
import { ClusterService } from './application/cluster.service';
import { CycleTrigger } from './application/cycle-trigger';
import { NodeService } from './application/node.service';
import { SchedulerLoop } from './application/scheduler-loop.service';
import { SchedulerService } from './application/scheduler.service';
import { TaskLifecycle } from './application/task-lifecycle.service';
import { TaskService } from './application/task.service';
import { SchedulerCron } from './jobs/scheduler.cron';
import { Binder } from './ports/binder.port';
import { ClusterStats } from './ports/cluster-stats.port';
import { LeaderLease } from './ports/leader-lease.port';
import { NodeStore } from './ports/node-store.port';
import { TaskStore } from './ports/task-store.port';

/** Seed design notes for this module: see docs/gpu-scheduler.md. Its public surface is ./index.ts. */
@Module({
  imports: [AgentModule, OutboxModule],
  controllers: [GpuTasksController, GpuNodesController, GpuConsoleController],
  providers: [
    // the ports and their PostgreSQL adapters (PGlite in the embedded profile speaks the same SQL)
    { provide: TaskStore, useClass: SqlTaskStore },
    { provide: NodeStore, useClass: SqlNodeStore },
    { provide: Binder, useClass: SqlBinder },
    { provide: ClusterStats, useClass: SqlClusterStats },
    { provide: LeaderLease, useClass: SqlLeaderLease },
    CycleTrigger, TaskService, TaskLifecycle, NodeService, ClusterService, ClusterViewService, SchedulerService, SchedulerLoop, SchedulerCron,
  ],
})
export class GpuSchedulerModule extends CreatesTopics('gpu.tasks') {}
