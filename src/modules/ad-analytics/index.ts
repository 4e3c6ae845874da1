export { AdAnalyticsModule } from './ad-analytics.module';
export { AdStreamWorker } from './stream/ad-stream.worker';
export { StatsService } from './stats.service';
export { CampaignService } from './campaign.service';
export { EVENTS_TOPIC, STREAM_GROUP, eventsTopic, streamConfigOf } from './ad-analytics.settings';
