export { LeaderboardModule } from './leaderboard.module';
export { LeaderboardService } from './leaderboard.service';
export { LeaderboardResetScheduler } from './leaderboard.scheduler';
