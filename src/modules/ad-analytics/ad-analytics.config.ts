import { configSlice } from '../../config/config-slice';

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
