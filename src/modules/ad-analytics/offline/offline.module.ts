import { Module } from '@nestjs/common';
import { ReportsController } from '../api/reports.controller';
import { ArchiveLocation } from './archive-dir';
import { AdEventArchiver } from './archiver';
import { DailyReportScheduler } from './daily-report.scheduler';
import { DailyReportService } from './daily-report.service';

/**
 * The offline path of ad analytics: the raw-event archiver (worker role), the T+1 report built from
 * the archive into SQL (cron in the scheduler role, on demand through the admin route) and its
 * reconciliation against the real-time store. Each provider checks its own role.
 */
@Module({
  controllers: [ReportsController],
  providers: [ArchiveLocation, AdEventArchiver, DailyReportService, DailyReportScheduler],
  exports: [AdEventArchiver, DailyReportService, DailyReportScheduler],
})
export class AdAnalyticsOfflineModule {}
