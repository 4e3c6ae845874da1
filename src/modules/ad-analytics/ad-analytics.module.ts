import { AdsConsoleController } from './api/ads-console.controller';
import { AdsViews } from './console/ads-views.service';
import { Module, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ModuleTopics } from '../../platform/messaging/module-topics';
import { streamConfigOf } from './ad-analytics.settings';
import { CampaignsController } from './api/campaigns.controller';
import { StatsController } from './api/stats.controller';
import { TrackController } from './api/track.controller';
import { CampaignService } from './campaign.service';
import { EventTracker } from './event-tracker.service';
import { StatsService } from './stats.service';
import { AdStreamWorker } from './stream/ad-stream.worker';
import { AdAnalyticsOfflineModule } from './offline/offline.module';

/**
 * Seed design notes for this module: see docs/ad-analytics.md. Its public surface is ./index.ts.
 * Roles: the HTTP routes serve in every process that loads the module (the platform serves HTTP
 * everywhere); AdStreamWorker consumes `ads.events` only where APP_ROLES has `worker`, so
 * `APP_ROLES=worker APP_MODULES=ad-analytics` runs the stream stage alone.
 */
@Module({
  imports: [AdAnalyticsOfflineModule], // archiver, T+1 report, /reports (offline path)
  controllers: [CampaignsController, TrackController, StatsController, AdsConsoleController],
  providers: [CampaignService, EventTracker, StatsService, AdStreamWorker, AdsViews],
  exports: [AdStreamWorker, StatsService, CampaignService],
})
export class AdAnalyticsModule implements OnModuleInit {
  static readonly TOPICS = ['ads.events'];

  constructor(
    private readonly topics: ModuleTopics,
    config: AppConfig,
  ) {
    streamConfigOf(config); // refuse to start with a TTL shorter than window + lateness
  }

  onModuleInit(): Promise<void> {
    return this.topics.ensure(AdAnalyticsModule.TOPICS);
  }
}
