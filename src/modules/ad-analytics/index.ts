export { AdAnalyticsModule } from './ad-analytics.module';
export { STREAM_GROUP, eventsTopic } from './ad-analytics.config';
