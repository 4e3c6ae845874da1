export { GpuSchedulerModule } from './gpu-scheduler.module';
