import { AppError } from '../../../platform/errors/app-error';

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
