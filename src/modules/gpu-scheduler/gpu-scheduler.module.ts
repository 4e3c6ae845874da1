import { Module, OnModuleInit } from '@nestjs/common';
import { ModuleTopics } from '../../platform/messaging/module-topics';

/** Seed design notes for this module: see docs/gpu-scheduler.md. Its public surface is ./index.ts. */
@Module({})
export class GpuSchedulerModule implements OnModuleInit {
  static readonly TOPICS = ['gpu.tasks'];

  constructor(private readonly topics: ModuleTopics) {}

  onModuleInit(): Promise<void> {
    return this.topics.ensure(GpuSchedulerModule.TOPICS);
  }
}
