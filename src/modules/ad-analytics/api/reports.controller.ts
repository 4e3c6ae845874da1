import { Query } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { OptionalProperty, StringMatching } from '../../../platform/validation/int-range';
import { DailyReport, ReportRun } from './ad-analytics.responses';

const RUN_EXAMPLE = { date: '2026-11-23', builtAt: '2026-11-24T00:05:00.000Z', buildMs: 812, filesRead: 3, recordsRead: 180600, recordsSkipped: 0, duplicates: 0, unmatchedClicks: 0 };
import { DailyReportService } from '../application/daily-report.service';

export class BuildReportQuery {
  @ApiProperty({ example: '2026-11-23', description: 'UTC day' })
  @StringMatching(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' })
  date!: string;
}

export class DailyReportQuery extends BuildReportQuery {
  @OptionalProperty()
  @IsString()
  @MaxLength(128)
  campaignId?: string;
}

@ApiController('ad-analytics', 'api/v1/reports')
export class ReportsController {
  constructor(private readonly reports: DailyReportService) {}

  /** The T+1 report (hourly and daily per ad and campaign) and its reconciliation with the real-time counts. */
  @Endpoint('GET daily', 'client', 'The T+1 daily report', {
    description: 'Hourly and daily impressions, clicks and CTR per ad and campaign from the raw archive, and its reconciliation with the real-time counts.',
    responses: [{
      status: 200, description: 'the report', type: DailyReport,
      example: { date: '2026-11-23', campaignId: null, run: RUN_EXAMPLE, totals: { impressions: 0, clicks: 0, ctr: 0, hours: [] }, campaigns: [], ads: [], reconciliation: { matches: true } },
    }],
    errorNotes: { 404: 'no report has been built for that day (`report_not_found`)' },
  })
  daily(@Query() q: DailyReportQuery) {
    return this.reports.get(q.date, q.campaignId);
  }

  /** Builds (or rebuilds) a day's report now from the archive; the cron does this for yesterday. */
  @Endpoint('POST daily/build', 'admin', 'Build a daily report now', {
    description: 'Builds (or rebuilds) a day\'s report from the archive; the nightly job does this for yesterday.',
    responses: [{
      status: 200, description: 'the build run', type: ReportRun, example: RUN_EXAMPLE,
      links: { Report: { operationId: 'ReportsController_daily', parameters: { date: '$response.body#/date' } } },
    }],
    errorNotes: { 409: 'the report of that day is being built right now' },
  })
  build(@Query() q: BuildReportQuery) {
    return this.reports.build(q.date);
  }
}
