import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { DailyReportService } from '../offline/daily-report.service';

export class DailyReportQuery {
  @ApiProperty({ example: '2026-11-23', description: 'UTC day' })
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' })
  date!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(128)
  campaignId?: string;
}

export class BuildReportQuery {
  @ApiProperty({ example: '2026-11-23', description: 'UTC day' })
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' })
  date!: string;
}

@ApiTags('ad-analytics')
@ApiSecurity('api-key')
@Controller('api/v1/reports')
export class ReportsController {
  constructor(private readonly reports: DailyReportService) {}

  /** The T+1 report (hourly and daily per ad and campaign) and its reconciliation with the real-time counts. */
  @RequireRole('client')
  @Get('daily')
  daily(@Query() q: DailyReportQuery) {
    return this.reports.get(q.date, q.campaignId);
  }

  /** Builds (or rebuilds) a day's report now from the archive; the cron does this for yesterday. */
  @RequireRole('admin')
  @Post('daily/build')
  @HttpCode(200)
  build(@Query() q: BuildReportQuery) {
    return this.reports.build(q.date);
  }
}
