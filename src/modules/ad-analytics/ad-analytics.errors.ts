import { AppError, ErrorKind } from '../../platform/errors/app-error';

export class AdAnalyticsError extends AppError {
  constructor(kind: ErrorKind, code: string, message: string, extra: Record<string, unknown> = {}) {
    super(kind, code, message, extra);
  }
}

export const campaignNotFound = (id: string) => new AdAnalyticsError('not_found', 'campaign_not_found', `campaign ${id} does not exist`);
export const campaignExists = (id: string) => new AdAnalyticsError('conflict', 'campaign_exists', `campaign ${id} already exists`);
export const adExists = (id: string) => new AdAnalyticsError('conflict', 'ad_exists', `ad ${id} already belongs to a campaign`);
export const noEligibleAd = (placement: string) =>
  new AdAnalyticsError('not_found', 'no_eligible_ad', `no active ad can be served for placement ${placement}`);
export const invalidInput = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  new AdAnalyticsError('invalid', code, message, extra);
/** The log refused or did not acknowledge in time. On a timeout the batch may still land: a retry is safe (the stream dedups). */
export const logUnavailable = (why: string) =>
  new AdAnalyticsError('unavailable', 'event_log_unavailable', `the event log did not acknowledge the batch (${why}); retry it`, {
    retryAfterSeconds: 1,
  });

export class InvalidReportDate extends AppError {
  constructor(date: string) {
    super('invalid', 'invalid_date', `date ${JSON.stringify(date)} is not a calendar date YYYY-MM-DD`, {
      errors: [{ field: 'date', message: 'date must be a calendar date YYYY-MM-DD (UTC)' }],
    });
  }
}

export class ReportNotFound extends AppError {
  constructor(date: string) {
    super('not_found', 'report_not_found', `no daily report has been built for ${date}`);
  }
}

export class ReportBuildRunning extends AppError {
  constructor(date: string) {
    super('conflict', 'report_build_running', `the report for ${date} is being built right now`);
  }
}
