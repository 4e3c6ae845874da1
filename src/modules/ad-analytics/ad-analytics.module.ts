import { Module, OnModuleInit } from '@nestjs/common';
import { ModuleTopics } from '../../platform/messaging/module-topics';

/** Seed design notes for this module: see docs/ad-analytics.md. Its public surface is ./index.ts. */
@Module({})
export class AdAnalyticsModule implements OnModuleInit {
  static readonly TOPICS = ['ads.events'];

  constructor(private readonly topics: ModuleTopics) {}

  onModuleInit(): Promise<void> {
    return this.topics.ensure(AdAnalyticsModule.TOPICS);
  }
}
