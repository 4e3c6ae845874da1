import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { select } from '../../../platform/database/rows-of';
import { AdAnalyticsConfig, eventsTopic } from '../ad-analytics.config';
import { DailyReport, RealtimeRow, ReportCell } from '../domain';
import { ReportRepository, ReportRun } from '../ports/report-repository.port';

const INSERT_CHUNK = 500;

/** ad_report_days / ad_report_hourly, and the real-time side of a day from ad_minute_stats. */
@Injectable()
export class SqlReportRepository extends ReportRepository {
  private readonly topic: string;

  constructor(
    private readonly db: DataSource,
    config: AdAnalyticsConfig,
  ) {
    super();
    this.topic = eventsTopic(config);
  }

  async save(date: string, r: DailyReport, meta: { buildMs: number; filesRead: number; recordsSkipped: number }): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query('DELETE FROM ad_report_days WHERE topic = $1 AND day = $2::date', [this.topic, date]); // cascades to the cells
      await m.query(
        `INSERT INTO ad_report_days (topic, day, build_ms, files_read, records_read, records_skipped, duplicates, unmatched_clicks)
         VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8)`,
        [this.topic, date, Math.round(meta.buildMs), meta.filesRead, r.recordsRead, meta.recordsSkipped, r.duplicates, r.unmatchedClicks],
      );
      for (let i = 0; i < r.cells.length; i += INSERT_CHUNK) {
        const chunk = r.cells.slice(i, i + INSERT_CHUNK);
        const params: unknown[] = [this.topic, date];
        const values = chunk.map((c) => {
          const b = params.length;
          params.push(c.hour, c.adId, c.campaignId, c.impressions, c.clicks, c.onTimeImpressions, c.onTimeClicks);
          return `($1, $2::date, $${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
        });
        await m.query(
          `INSERT INTO ad_report_hourly (topic, day, hour, ad_id, campaign_id, impressions, clicks, on_time_impressions, on_time_clicks)
           VALUES ${values.join(', ')}`,
          params,
        );
      }
    });
  }

  async run(date: string): Promise<ReportRun | null> {
    const rows = await select<Record<string, string | number | Date>>(this.db,
      `SELECT day::text AS day, built_at, build_ms, files_read, records_read, records_skipped, duplicates, unmatched_clicks
       FROM ad_report_days WHERE topic = $1 AND day = $2::date`,
      [this.topic, date],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    return {
      date: String(r.day),
      builtAt: new Date(r.built_at).toISOString(),
      buildMs: Number(r.build_ms),
      filesRead: Number(r.files_read),
      recordsRead: Number(r.records_read),
      recordsSkipped: Number(r.records_skipped),
      duplicates: Number(r.duplicates),
      unmatchedClicks: Number(r.unmatched_clicks),
    };
  }

  async cells(date: string, campaignId?: string): Promise<ReportCell[]> {
    const rows = await select<Record<string, string | number>>(this.db,
      `SELECT hour, ad_id, campaign_id, impressions, clicks, on_time_impressions, on_time_clicks FROM ad_report_hourly
       WHERE topic = $1 AND day = $2::date AND ($3::text IS NULL OR campaign_id = $3) ORDER BY hour, ad_id, campaign_id`,
      [this.topic, date, campaignId ?? null],
    );
    return rows.map((r) => ({
      hour: Number(r.hour),
      adId: String(r.ad_id),
      campaignId: String(r.campaign_id),
      impressions: Number(r.impressions),
      clicks: Number(r.clicks),
      onTimeImpressions: Number(r.on_time_impressions),
      onTimeClicks: Number(r.on_time_clicks),
    }));
  }

  async realtime(from: number, to: number, campaignId?: string): Promise<RealtimeRow[]> {
    const rows = await select<Record<string, string>>(this.db,
      `SELECT ad_id, campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks FROM ad_minute_stats
       WHERE topic = $1 AND window_start >= $2 AND window_start < $3 AND ($4::text IS NULL OR campaign_id = $4)
       GROUP BY ad_id, campaign_id`,
      [this.topic, from, to, campaignId ?? null],
    );
    return rows.map((r) => ({ adId: r.ad_id, campaignId: r.campaign_id, impressions: Number(r.impressions), clicks: Number(r.clicks) }));
  }
}
