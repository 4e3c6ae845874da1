import { Module, OnModuleInit } from '@nestjs/common';
import { ModuleTopics } from '../../platform/messaging/module-topics';
import { LeaderboardController } from './api/leaderboard.controller';
import { LeaderboardScoreConsumer } from './jobs/leaderboard.consumer';
import { LeaderboardMetrics } from './application/leaderboard.metrics';
import { LeaderboardResetScheduler } from './jobs/leaderboard-reset.cron';
import { LeaderboardService } from './application/leaderboard.service';

/** Seed design notes for this module: see docs/leaderboard.md. Its public surface is ./index.ts. */
@Module({
  controllers: [LeaderboardController, LeaderboardScoreConsumer],
  providers: [LeaderboardService, LeaderboardMetrics, LeaderboardResetScheduler],
  exports: [LeaderboardService],
})
export class LeaderboardModule implements OnModuleInit {
  static readonly TOPICS = ['leaderboard.scores'];

  constructor(private readonly topics: ModuleTopics) {}

  onModuleInit(): Promise<void> {
    return this.topics.ensure(LeaderboardModule.TOPICS);
  }
}
