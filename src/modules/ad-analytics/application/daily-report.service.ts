import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AdAnalyticsConfig, streamConfigOf } from '../ad-analytics.config';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { AdAnalyticsCode, AdAnalyticsError } from '../ad-analytics.errors';
import { DailyReportBuilder, DAY_MS, parseDay, reconcile, Reconciliation, reportView, ReportView, StreamConfig } from '../domain';
import { ArchiveStore } from '../ports/archive-store.port';
import { ReportRepository, ReportRun } from '../ports/report-repository.port';

/** A build holds its lock at most this long (a crashed builder's lock expires). */
const BUILD_LOCK_TTL_MS = 15 * 60 * 1000;

export interface DailyReportDocument extends ReportView {
  date: string;
  campaignId: string | null;
  run: ReportRun;
  reconciliation: Reconciliation;
}

/**
 * Builds the T+1 report of a UTC day from the raw archive into SQL, and serves it with its
 * reconciliation against the real-time store. Reading is per Kafka partition (see DailyReportBuilder).
 */
@Injectable()
export class DailyReportService {
  private readonly log = new Logger('ads.report');
  private readonly stream: StreamConfig;
  private readonly mismatches: Counter;

  constructor(
    private readonly repo: ReportRepository,
    private readonly store: ArchiveStore,
    private readonly kv: KeyValueStore,
    private readonly config: AdAnalyticsConfig,
    metrics: MetricsRegistry,
  ) {
    this.mismatches = new Counter({
      name: 'ads_report_reconciliation_mismatches_total',
      help: 'report builds whose real-time counts differ from the on-time replay (lost or double-counted events)',
      registers: [metrics.registry],
    });
    this.stream = streamConfigOf(config);
  }

  private day(date: string): number {
    const t = parseDay(date);
    if (t === null) {
      throw new AdAnalyticsError('invalid', AdAnalyticsCode.InvalidDate, `date ${JSON.stringify(date)} is not a calendar date YYYY-MM-DD`, {
        errors: [{ field: 'date', message: 'date must be a calendar date YYYY-MM-DD (UTC)' }],
      });
    }
    return t;
  }

  /** Builds (or rebuilds) the day's report; one build per day at a time across instances. */
  async build(date: string): Promise<ReportRun> {
    const dayStart = this.day(date);
    const lock = `${this.config.NAMESPACE}:ads:report-build:${date}`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: BUILD_LOCK_TTL_MS }))) throw new AdAnalyticsError('conflict', AdAnalyticsCode.ReportBuildRunning, `the report for ${date} is being built right now`);
    try {
      const started = performance.now();
      const builder = new DailyReportBuilder(dayStart, this.stream);
      // A click joins an impression up to the TTL before or after it: read that margin around the day.
      const files = await this.store.filesForDay(dayStart, this.stream.ttlMs);
      let filesRead = 0;
      let skipped = 0;
      for (const [, paths] of [...files.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const records = [];
        for (const path of paths) {
          const f = await this.store.readFile(path);
          filesRead++;
          skipped += f.skipped;
          for (const r of f.records) records.push(r);
        }
        builder.addPartition(records);
      }
      const report = builder.result();
      const buildMs = performance.now() - started;
      await this.repo.save(date, report, { buildMs, filesRead, recordsSkipped: skipped });
      this.log.log(`report ${date}: ${report.cells.length} cells from ${report.recordsRead} records in ${filesRead} files (${buildMs.toFixed(0)} ms)`);
      await this.checkReconciliation(date, dayStart);
      return (await this.repo.run(date))!;
    } finally {
      await this.kv.del([lock]).catch(() => undefined);
    }
  }

  /**
   * A mismatch means the real-time path lost or double-counted events (or, for a build before the
   * stream caught up, has not counted them yet): it must not only show in the document but be seen.
   */
  private async checkReconciliation(date: string, dayStart: number): Promise<void> {
    const [cells, realtime] = await Promise.all([this.repo.cells(date), this.repo.realtime(dayStart, dayStart + DAY_MS)]);
    const r = reconcile(cells, realtime);
    if (r.matches) return;
    this.mismatches.inc();
    const bad = r.ads.filter((a) => !a.matches);
    const u = r.totals.unexplained;
    this.log.warn(
      `report ${date}: real-time counts differ from the on-time replay by ${u.impressions} impressions and ${u.clicks} clicks ` +
        `(${bad.length} ads, e.g. ${bad.slice(0, 3).map((a) => `${a.adId} ${a.unexplained.impressions}/${a.unexplained.clicks}`).join(', ')})`,
    );
  }

  async get(date: string, campaignId?: string): Promise<DailyReportDocument> {
    const dayStart = this.day(date);
    const run = await this.repo.run(date);
    if (!run) throw new AdAnalyticsError('not_found', AdAnalyticsCode.ReportNotFound, `no daily report has been built for ${date}`);
    const [cells, realtime] = await Promise.all([
      this.repo.cells(date, campaignId),
      this.repo.realtime(dayStart, dayStart + DAY_MS, campaignId),
    ]);
    return { date, campaignId: campaignId ?? null, run, ...reportView(cells), reconciliation: reconcile(cells, realtime) };
  }
}
