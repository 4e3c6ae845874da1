export { GpuSchedulerModule } from './gpu-scheduler.module';
export * from './agent-protocol';
export { NodeService } from './service/node.service';
export { SchedulerService } from './service/scheduler.service';
export { SchedulerLoop } from './service/scheduler.loop';
export { TaskLifecycle } from './service/task-lifecycle';
export { TaskService } from './service/task.service';
export type { NodeView, TaskView, TaskStatus } from './gpu-scheduler.types';
