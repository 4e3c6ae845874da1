import { Module } from '@nestjs/common';
import { provideConfigSlice } from '../../config/config-slice';
import { selectAdapter } from '../../platform/adapter-selection';
import { KeyValueStore } from '../../platform/kv/key-value-store.port';
import { CreatesTopics } from '../../platform/messaging/module-topics';
import { InProcessRankStore } from './adapters/in-process-rank-store';
import { RedisRankStore } from './adapters/redis-rank-store';
import { SqlBoardRepository } from './adapters/sql-board-repository';
import { LeaderboardController } from './api/leaderboard.controller';
import { BoardService } from './application/board.service';
import { LeaderboardMetrics } from './application/leaderboard.metrics';
import { LeaderboardService, SCORES_TOPIC } from './application/leaderboard.service';
import { SeasonService } from './application/season.service';
import { LeaderboardResetScheduler } from './jobs/leaderboard-reset.cron';
import { LeaderboardScoreConsumer } from './jobs/leaderboard.consumer';
import { LeaderboardConfig } from './leaderboard.config';
import { BoardRepository } from './ports/board-repository.port';
import { RankStore } from './ports/rank-store.port';

/** Seed design notes for this module: see docs/leaderboard.md. Its public surface is ./index.ts. */
@Module({
  controllers: [LeaderboardController, LeaderboardScoreConsumer],
  providers: [
    selectAdapter(RankStore, {
      inject: [KeyValueStore, LeaderboardConfig],
      full: (kv: KeyValueStore, c: LeaderboardConfig) => new RedisRankStore(kv, c.NAMESPACE),
      inProcess: (kv: KeyValueStore, c: LeaderboardConfig) => new InProcessRankStore(kv, c.NAMESPACE),
    }),
    provideConfigSlice(LeaderboardConfig),
    { provide: BoardRepository, useClass: SqlBoardRepository },
    BoardService,
    LeaderboardService,
    SeasonService,
    LeaderboardMetrics,
    LeaderboardResetScheduler,
  ],
  exports: [LeaderboardService],
})
export class LeaderboardModule extends CreatesTopics(SCORES_TOPIC) {}
