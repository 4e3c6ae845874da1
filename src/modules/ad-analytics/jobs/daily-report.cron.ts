import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AdAnalyticsConfig } from '../ad-analytics.config';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { DAY_MS, formatDay } from '../domain';
import { DailyReportService } from '../application/daily-report.service';

const JOB = 'ads-daily-report';
/** Long enough that every scheduler instance's tick for the same day finds the lock taken. */
const TICK_LOCK_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Scheduler role: builds yesterday's (UTC) report on ADS_REPORT_CRON. The cron comes from config,
 * so the job is registered in @nestjs/schedule's SchedulerRegistry at start-up rather than by a
 * decorator. Several scheduler instances may tick together: a set-if-absent lock per day lets one
 * build; a failed build releases it so a manual or later run can retry.
 */
@Injectable()
export class DailyReportScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ads.report-scheduler');
  private job?: CronJob;

  constructor(
    private readonly reports: DailyReportService,
    private readonly registry: SchedulerRegistry,
    private readonly kv: KeyValueStore,
    private readonly config: AdAnalyticsConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.hasRole('scheduler') || this.config.ADS_REPORT_CRON === 'off') return;
    try {
      this.job = CronJob.from({ cronTime: this.config.ADS_REPORT_CRON, timeZone: 'UTC', onTick: () => void this.tick(), start: false });
    } catch (e) {
      // The config check only looks at the shape; a field out of range is refused here, at start-up.
      throw new Error(`ADS_REPORT_CRON=${JSON.stringify(this.config.ADS_REPORT_CRON)} is not a valid cron expression: ${(e as Error).message}`);
    }
    this.registry.addCronJob(JOB, this.job as never);
    this.job.start();
  }

  onModuleDestroy(): void {
    if (!this.job) return;
    void this.job.stop();
    try {
      this.registry.deleteCronJob(JOB);
    } catch {
      // already gone
    }
  }

  /** Builds the report of the UTC day before `now`, unless another instance got there first. */
  async tick(now = Date.now()): Promise<boolean> {
    const date = formatDay(now - DAY_MS);
    const lock = `${this.config.NAMESPACE}:ads:report-tick:${date}`;
    try {
      if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: TICK_LOCK_TTL_MS }))) return false;
      await this.reports.build(date);
      return true;
    } catch (e) {
      this.log.warn(`daily report ${date} failed: ${(e as Error).message}`);
      await this.kv.del([lock]).catch(() => undefined);
      return false;
    }
  }
}
