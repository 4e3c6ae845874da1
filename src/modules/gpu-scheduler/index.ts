export { GpuSchedulerModule } from './gpu-scheduler.module';
export * from './agent-protocol';
export { SchedulerService } from './application/scheduler.service';
export type { NodeView, TaskView, TaskStatus } from './gpu-scheduler.types';
