export { GpuSchedulerModule } from './gpu-scheduler.module';
export * from './agent-protocol';
export { SchedulerService } from './application/scheduler.service';
