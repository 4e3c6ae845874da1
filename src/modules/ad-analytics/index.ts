export { AdAnalyticsModule } from './ad-analytics.module';
export { AdStreamWorker } from './application/ad-stream.service';
export { StatsService } from './application/stats.service';
export { CampaignService } from './application/campaign.service';
export { EVENTS_TOPIC, STREAM_GROUP, eventsTopic, streamConfigOf } from './ad-analytics.config';
