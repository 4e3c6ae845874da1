import { Module } from '@nestjs/common';
import { provideConfigSlice } from '../../config/config-slice';
import { CreatesTopics, ModuleTopics } from '../../platform/messaging/module-topics';
import { EventBus } from '../../platform/messaging/event-bus.port';
import { FsArchiveStore } from './adapters/fs-archive-store';
import { KvDashboardSink } from './adapters/kv-dashboard-sink';
import { SqlCampaignRepository } from './adapters/sql-campaign-repository';
import { SqlCheckpointStore } from './adapters/sql-checkpoint-store';
import { SqlReportRepository } from './adapters/sql-report-repository';
import { SqlStatsRepository } from './adapters/sql-stats-repository';
import { AdAnalyticsConfig, EVENTS_TOPIC, streamConfigOf } from './ad-analytics.config';
import { AdsConsoleController } from './api/ads-console.controller';
import { CampaignsController } from './api/campaigns.controller';
import { ReportsController } from './api/reports.controller';
import { StatsController } from './api/stats.controller';
import { TrackController } from './api/track.controller';
import { CampaignService } from './application/campaign.service';
import { DailyReportService } from './application/daily-report.service';
import { EventTracker } from './application/event-tracker.service';
import { StatsService } from './application/stats.service';
import { AdEventArchiver } from './application/event-archiver.service';
import { AdArchiveConsumer } from './jobs/ad-archive.consumer';
import { AdStreamWorker } from './application/ad-stream.service';
import { AdStreamConsumer } from './jobs/ad-stream.consumer';
import { DailyReportScheduler } from './jobs/daily-report.cron';
import { ArchiveStore } from './ports/archive-store.port';
import { CampaignRepository } from './ports/campaign-repository.port';
import { ReportRepository } from './ports/report-repository.port';
import { StatsRepository } from './ports/stats-repository.port';
import { CheckpointStore, DashboardSink } from './ports/stream-state.port';

/**
 * Seed design notes for this module: see docs/ad-analytics.md. Its public surface is ./index.ts.
 * Roles: the HTTP routes serve in every process that loads the module (the platform serves HTTP
 * everywhere); the stream worker and the archiver consume `ads.events` only where APP_ROLES has
 * `worker` (`APP_ROLES=worker APP_MODULES=ad-analytics` runs the stream stage alone); the T+1 report
 * cron runs only with `scheduler`.
 */
@Module({
  controllers: [CampaignsController, TrackController, StatsController, AdsConsoleController, ReportsController, AdArchiveConsumer, AdStreamConsumer],
  providers: [
    provideConfigSlice(AdAnalyticsConfig),
    CampaignService, EventTracker, StatsService, DailyReportService, AdStreamWorker, AdEventArchiver, DailyReportScheduler,
    { provide: CampaignRepository, useClass: SqlCampaignRepository },
    { provide: StatsRepository, useClass: SqlStatsRepository },
    { provide: ReportRepository, useClass: SqlReportRepository },
    { provide: CheckpointStore, useClass: SqlCheckpointStore },
    { provide: DashboardSink, useClass: KvDashboardSink },
    // Files and checkpoints carry the log's id where its offsets restart with each process (an in-memory log).
    { provide: ArchiveStore, inject: [AdAnalyticsConfig, EventBus], useFactory: (c: AdAnalyticsConfig, bus: EventBus) => FsArchiveStore.forConfig(c, bus.logId) },
  ],
  exports: [AdStreamWorker, StatsService, CampaignService],
})
export class AdAnalyticsModule extends CreatesTopics(EVENTS_TOPIC) {
  constructor(topics: ModuleTopics, config: AdAnalyticsConfig) {
    super(topics);
    streamConfigOf(config); // refuse to start with a TTL shorter than window + lateness
  }
}
