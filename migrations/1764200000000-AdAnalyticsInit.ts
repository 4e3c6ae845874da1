import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ad analytics. Campaigns and ads (the serving catalogue) are per NAMESPACE, so tenants and test
 * runs sharing one database never see each other's ads. The stream worker's durable state:
 * - ad_minute_stats: one row per (topic, partition, window, ad) with the window's final counts.
 *   A partition closes a window once, so rows are written with absolute values (idempotent) and
 *   /stats sums the partitions. `flush_seq` orders writes for the SSE feed.
 * - ad_stream_checkpoints: per (consumer group, topic, partition) the processor snapshot, the next
 *   offset to read and a sequence number used as a fencing token (compare-and-set), all written in
 *   the same transaction as the stats rows: PostgreSQL, not Kafka, holds the consumed offsets.
 *   `last_windows` is the dashboard outbox: rows committed here but not yet confirmed in Redis.
 * - ad_stream_counters: late events, unmatched clicks and processed events per partition.
 */
export class AdAnalyticsInit1764200000000 implements MigrationInterface {
  name = 'AdAnalyticsInit1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ad_campaigns (
        namespace     text        NOT NULL,
        id            text        NOT NULL,
        name          text        NOT NULL,
        advertiser_id text        NOT NULL,
        active        boolean     NOT NULL DEFAULT true,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (namespace, id)
      )`);
    await q.query(`
      CREATE TABLE ad_ads (
        namespace    text             NOT NULL,
        id           text             NOT NULL,
        campaign_id  text             NOT NULL,
        creative_url text             NOT NULL,
        weight       double precision NOT NULL CHECK (weight >= 0),
        position     integer          NOT NULL,
        PRIMARY KEY (namespace, id),
        FOREIGN KEY (namespace, campaign_id) REFERENCES ad_campaigns (namespace, id)
      )`);
    await q.query('CREATE INDEX ad_ads_campaign ON ad_ads (namespace, campaign_id, position)');
    await q.query(`
      CREATE TABLE ad_minute_stats (
        topic        text    NOT NULL,
        partition    integer NOT NULL,
        window_start bigint  NOT NULL,
        window_end   bigint  NOT NULL,
        ad_id        text    NOT NULL,
        campaign_id  text    NOT NULL,
        impressions  bigint  NOT NULL,
        clicks       bigint  NOT NULL,
        flush_seq    bigserial,
        PRIMARY KEY (topic, partition, window_start, ad_id, campaign_id)
      )`);
    await q.query('CREATE INDEX ad_minute_stats_ad ON ad_minute_stats (topic, ad_id, window_start)');
    await q.query('CREATE INDEX ad_minute_stats_campaign ON ad_minute_stats (topic, campaign_id, window_start)');
    await q.query('CREATE INDEX ad_minute_stats_seq ON ad_minute_stats (topic, flush_seq)');
    await q.query(`
      CREATE TABLE ad_stream_checkpoints (
        group_id     text        NOT NULL,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        next_offset  bigint      NOT NULL,
        seq          bigint      NOT NULL,
        snapshot     text        NOT NULL,
        last_windows jsonb       NOT NULL DEFAULT '[]'::jsonb,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      )`);
    await q.query(`
      CREATE TABLE ad_stream_counters (
        group_id  text    NOT NULL,
        topic     text    NOT NULL,
        partition integer NOT NULL,
        events    bigint  NOT NULL DEFAULT 0,
        late      bigint  NOT NULL DEFAULT 0,
        unmatched bigint  NOT NULL DEFAULT 0,
        malformed bigint  NOT NULL DEFAULT 0,
        PRIMARY KEY (group_id, topic, partition)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE ad_stream_counters');
    await q.query('DROP TABLE ad_stream_checkpoints');
    await q.query('DROP TABLE ad_minute_stats');
    await q.query('DROP TABLE ad_ads');
    await q.query('DROP TABLE ad_campaigns');
  }
}
