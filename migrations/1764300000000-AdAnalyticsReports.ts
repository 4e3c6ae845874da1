import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ad analytics offline path: the T+1 report built from the raw-event archive. Keyed by the events
 * topic (namespaced, like ad_minute_stats) so tenants and test runs sharing a database stay apart.
 * - ad_report_days: one row per built day (when, how much was read, duplicates, unmatched clicks).
 * - ad_report_hourly: the report's grain, (hour, ad, campaign), with the exact offline counts and the
 *   on-time counts (what the real-time path must hold); daily and per-campaign figures are sums.
 * A rebuild replaces a day's rows in one transaction.
 */
export class AdAnalyticsReports1764300000000 implements MigrationInterface {
  name = 'AdAnalyticsReports1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ad_report_days (
        topic            text        NOT NULL,
        day              date        NOT NULL,
        built_at         timestamptz NOT NULL DEFAULT now(),
        build_ms         integer     NOT NULL,
        files_read       integer     NOT NULL,
        records_read     bigint      NOT NULL,
        records_skipped  bigint      NOT NULL,
        duplicates       bigint      NOT NULL,
        unmatched_clicks bigint      NOT NULL,
        PRIMARY KEY (topic, day)
      )`);
    await q.query(`
      CREATE TABLE ad_report_hourly (
        topic               text     NOT NULL,
        day                 date     NOT NULL,
        hour                smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
        ad_id               text     NOT NULL,
        campaign_id         text     NOT NULL,
        impressions         bigint   NOT NULL,
        clicks              bigint   NOT NULL,
        on_time_impressions bigint   NOT NULL,
        on_time_clicks      bigint   NOT NULL,
        PRIMARY KEY (topic, day, hour, ad_id, campaign_id),
        FOREIGN KEY (topic, day) REFERENCES ad_report_days (topic, day) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX ad_report_hourly_campaign ON ad_report_hourly (topic, day, campaign_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE ad_report_hourly');
    await q.query('DROP TABLE ad_report_days');
  }
}
