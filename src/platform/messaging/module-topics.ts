import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { MessagingConfig } from '../../config/config-slice';
import { EventBus } from './event-bus.port';
import { topicName } from './topics';

/** Creates a module's topics at start-up (idempotent), with KAFKA_PARTITIONS partitions. */
@Injectable()
export class ModuleTopics {
  private readonly log = new Logger('topics');

  constructor(
    private readonly bus: EventBus,
    private readonly config: MessagingConfig,
  ) {}

  async ensure(topics: string[]): Promise<void> {
    const names = topics.map((t) => topicName(this.config, t));
    await this.bus.ensureTopics(names.map((name) => ({ name, partitions: this.config.KAFKA_PARTITIONS })));
    this.log.log(`topics ready: ${names.join(', ')}`);
  }
}

/**
 * What a module class extends to create its topics at start-up, before any consumer subscribes:
 *     export class LeaderboardModule extends CreatesTopics('leaderboard.scores') {}
 */
export function CreatesTopics(...topics: string[]) {
  // @Inject, not @Injectable: a module class must not be marked injectable.
  class TopicsOwner implements OnModuleInit {
    constructor(@Inject(ModuleTopics) readonly moduleTopics: ModuleTopics) {}

    onModuleInit(): Promise<void> {
      return this.moduleTopics.ensure(topics);
    }
  }
  return TopicsOwner;
}
