export { GpuSchedulerModule } from './gpu-scheduler.module';
export * from './agent-protocol';
export { NodeService } from './application/node.service';
export { SchedulerService } from './application/scheduler.service';
export { SchedulerLoop } from './application/scheduler-loop.service';
export { TaskLifecycle } from './application/task-lifecycle.service';
export { TaskService } from './application/task.service';
export type { NodeView, TaskView, TaskStatus } from './gpu-scheduler.types';
