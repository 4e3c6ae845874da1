export { AdAnalyticsModule } from './ad-analytics.module';
