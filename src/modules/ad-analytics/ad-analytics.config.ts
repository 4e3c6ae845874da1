import { configSlice } from '../../config/config-slice';
import { topicName } from '../../platform/messaging/topics';
import { StreamConfig } from './domain';

/** The knobs the ad-analytics module reads (provided in ad-analytics.module.ts). */
export class AdAnalyticsConfig extends configSlice(
  'NAMESPACE',
  'DATA_DIR',
  'hasRole',
  'ADS_WINDOW_MS',
  'ADS_OUT_OF_ORDERNESS_MS',
  'ADS_ALLOWED_LATENESS_MS',
  'ADS_JOIN_TTL_MS',
  'ADS_IDLE_TIMEOUT_MS',
  'ADS_CHECKPOINT_INTERVAL_MS',
  'ADS_TRACK_TIMEOUT_MS',
  'ADS_TRACK_MAX_IN_FLIGHT',
  'ADS_ARCHIVE_DIR',
  'ADS_ARCHIVE_ROLL_EVENTS',
  'ADS_ARCHIVE_ROLL_MS',
  'ADS_REPORT_CRON',
) {}

export const EVENTS_TOPIC = 'ads.events';
export const STREAM_GROUP = 'ads.stream';

export function eventsTopic(config: Pick<AdAnalyticsConfig, 'NAMESPACE'>): string {
  return topicName(config, EVENTS_TOPIC);
}

/** The stream core's windows, lateness and TTL from the validated config; refuses a TTL shorter than window + lateness. */
export function streamConfigOf(config: AdAnalyticsConfig): StreamConfig {
  const c: StreamConfig = {
    windowMs: config.ADS_WINDOW_MS,
    outOfOrdernessMs: config.ADS_OUT_OF_ORDERNESS_MS,
    allowedLatenessMs: config.ADS_ALLOWED_LATENESS_MS,
    ttlMs: config.ADS_JOIN_TTL_MS,
    idleTimeoutMs: config.ADS_IDLE_TIMEOUT_MS,
  };
  if (c.ttlMs < c.windowMs + c.allowedLatenessMs) {
    throw new Error(
      `ADS_JOIN_TTL_MS (${c.ttlMs}) must be >= ADS_WINDOW_MS + ADS_ALLOWED_LATENESS_MS (${c.windowMs + c.allowedLatenessMs})`,
    );
  }
  return c;
}
