import { AppError } from '../../platform/errors/app-error';

/** Stable codes of the ad-analytics module; the platform filter maps the kind to an HTTP status. */
export enum AdAnalyticsCode {
  // not_found / conflict / invalid / unavailable, in that order
  CampaignNotFound = 'campaign_not_found', NoEligibleAd = 'no_eligible_ad', ReportNotFound = 'report_not_found',
  CampaignExists = 'campaign_exists', AdExists = 'ad_exists', ReportBuildRunning = 'report_build_running',
  DuplicateAdId = 'duplicate_ad_id', InvalidEvent = 'invalid_event', InvalidTime = 'invalid_time', InvalidRange = 'invalid_range', InvalidDate = 'invalid_date',
  /** The log refused or did not acknowledge in time. On a timeout the batch may still land: a retry is safe (the stream dedups). */
  EventLogUnavailable = 'event_log_unavailable',
}

export class AdAnalyticsError extends AppError<AdAnalyticsCode> {}
