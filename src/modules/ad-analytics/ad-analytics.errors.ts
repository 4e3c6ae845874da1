import { AppError } from '../../platform/errors/app-error';

export enum AdAnalyticsCode {
  CampaignNotFound = 'campaign_not_found',
  CampaignExists = 'campaign_exists',
  AdExists = 'ad_exists',
  DuplicateAdId = 'duplicate_ad_id',
  NoEligibleAd = 'no_eligible_ad',
  InvalidEvent = 'invalid_event',
  /** The log refused or did not acknowledge in time. On a timeout the batch may still land: a retry is safe (the stream dedups). */
  EventLogUnavailable = 'event_log_unavailable',
  InvalidTime = 'invalid_time',
  InvalidRange = 'invalid_range',
  InvalidDate = 'invalid_date',
  ReportNotFound = 'report_not_found',
  ReportBuildRunning = 'report_build_running',
}

export class AdAnalyticsError extends AppError<AdAnalyticsCode> {}
