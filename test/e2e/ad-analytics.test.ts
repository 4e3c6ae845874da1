import { adAnalyticsSuite } from './ad-analytics.suite';

/** Embedded profile: the in-process log (with partitions), in-process KV, PGlite. */
describe('ad-analytics (embedded)', () => {
  adAnalyticsSuite({ APP_PROFILE: 'embedded' });
});
