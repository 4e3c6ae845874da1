export { LeaderboardModule } from './leaderboard.module';
export { LeaderboardService } from './application/leaderboard.service';
export { BoardService } from './application/board.service';
export { RankStore } from './ports/rank-store.port';
export { LeaderboardResetScheduler } from './jobs/leaderboard-reset.cron';
