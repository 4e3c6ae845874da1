import { adAnalyticsSuite } from './ad-analytics.suite';

/** Full profile: Kafka (acks=all idempotent producer, consumer group), Redis dashboard, PostgreSQL. */
describe('ad-analytics (full profile: Kafka, Redis, PostgreSQL)', () => {
  adAnalyticsSuite({ APP_PROFILE: 'full' });
});
