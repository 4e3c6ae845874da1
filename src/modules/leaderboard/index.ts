export { LeaderboardModule } from './leaderboard.module';
export { LeaderboardService } from './application/leaderboard.service';
export { LeaderboardResetScheduler } from './jobs/leaderboard-reset.cron';
