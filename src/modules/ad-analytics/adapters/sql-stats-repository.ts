import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { select } from '../../../platform/database/rows-of';
import { AdAnalyticsConfig, eventsTopic } from '../ad-analytics.config';
import type { WindowCounts } from '../domain';
import { FlushedRow, StatsRepository } from '../ports/stats-repository.port';

/** Reads of ad_minute_stats: partitions summed per window. */
@Injectable()
export class SqlStatsRepository extends StatsRepository {
  private readonly topic: string;

  constructor(
    private readonly db: DataSource,
    config: AdAnalyticsConfig,
  ) {
    super();
    this.topic = eventsTopic(config);
  }

  byAd(adId: string, from: number, to: number): Promise<WindowCounts[]> {
    return this.windows('ad_id', adId, from, to);
  }

  byCampaign(campaignId: string, from: number, to: number): Promise<WindowCounts[]> {
    return this.windows('campaign_id', campaignId, from, to);
  }

  private async windows(column: 'ad_id' | 'campaign_id', id: string, from: number, to: number): Promise<WindowCounts[]> {
    const rows = await select<{ window_start: string; impressions: string; clicks: string }>(this.db,
      `SELECT window_start, sum(impressions) AS impressions, sum(clicks) AS clicks FROM ad_minute_stats
       WHERE topic = $1 AND ${column} = $2 AND window_start >= $3 AND window_start < $4
       GROUP BY window_start ORDER BY window_start`,
      [this.topic, id, from, to],
    );
    return rows.map((r) => ({ windowStart: Number(r.window_start), impressions: Number(r.impressions), clicks: Number(r.clicks) }));
  }

  async adsOfCampaign(campaignId: string, from: number, to: number) {
    const rows = await select<{ ad_id: string; impressions: string; clicks: string }>(this.db,
      `SELECT ad_id, sum(impressions) AS impressions, sum(clicks) AS clicks FROM ad_minute_stats
        WHERE topic = $1 AND campaign_id = $2 AND window_start >= $3 AND window_start < $4 GROUP BY ad_id ORDER BY ad_id`,
      [this.topic, campaignId, from, to],
    );
    return rows.map((r) => ({ adId: r.ad_id, impressions: Number(r.impressions), clicks: Number(r.clicks) }));
  }

  async newestWindowEnd(): Promise<number | null> {
    const rows = await select<{ w: string | null }>(this.db, 'SELECT max(window_end) AS w FROM ad_minute_stats WHERE topic = $1', [this.topic]);
    return rows[0]?.w == null ? null : Number(rows[0].w);
  }

  async lastSeq(): Promise<number> {
    const rows = await select<{ s: string | null }>(this.db, 'SELECT max(flush_seq) AS s FROM ad_minute_stats WHERE topic = $1', [this.topic]);
    return Number(rows[0].s ?? 0);
  }

  async flushedAfter(seq: number, limit: number): Promise<FlushedRow[]> {
    const rows: { seq: string; window_start: string; window_end: string; ad_id: string; campaign_id: string; impressions: string; clicks: string }[] =
      await this.db.query(
        `WITH changed AS (
           SELECT window_start, ad_id, campaign_id, max(flush_seq) AS seq FROM ad_minute_stats
           WHERE topic = $1 AND flush_seq > $2 GROUP BY window_start, ad_id, campaign_id ORDER BY seq LIMIT $3)
         SELECT c.seq, s.window_start, max(s.window_end) AS window_end, s.ad_id, s.campaign_id,
                sum(s.impressions) AS impressions, sum(s.clicks) AS clicks
         FROM changed c JOIN ad_minute_stats s
           ON s.topic = $1 AND s.window_start = c.window_start AND s.ad_id = c.ad_id AND s.campaign_id = c.campaign_id
         GROUP BY c.seq, s.window_start, s.ad_id, s.campaign_id ORDER BY c.seq`,
        [this.topic, seq, limit],
      );
    return rows.map((r) => ({
      seq: Number(r.seq),
      windowStart: Number(r.window_start),
      windowEnd: Number(r.window_end),
      adId: r.ad_id,
      campaignId: r.campaign_id,
      impressions: Number(r.impressions),
      clicks: Number(r.clicks),
    }));
  }
}
