import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { eventsTopic } from '../ad-analytics.settings';
import { ctrOf } from '../domain';
import { StatsService } from './stats.service';

/** Read views for the advertisers' dashboard (the web console's ads page). */
@Injectable()
export class AdsViews {
  private readonly topic: string;

  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly stats: StatsService,
  ) {
    this.topic = eventsTopic(config);
  }

  async campaigns(limit: number, offset: number) {
    const rows: { id: string; name: string; advertiser_id: string; active: boolean; ads: number }[] = await this.db.query(
      `SELECT c.id, c.name, c.advertiser_id, c.active, (SELECT count(*)::int FROM ad_ads a WHERE a.namespace = c.namespace AND a.campaign_id = c.id) AS ads
         FROM ad_campaigns c WHERE c.namespace = $1 ORDER BY c.created_at DESC, c.id LIMIT $2 OFFSET $3`,
      [this.config.NAMESPACE, limit, offset],
    );
    return { campaigns: rows.map((r) => ({ id: r.id, name: r.name, advertiserId: r.advertiser_id, active: r.active, ads: r.ads })) };
  }

  /**
   * Totals per ad of a campaign over [from, to) (closed windows, partitions summed), and the end of
   * the newest closed window of the whole pipeline (the dashboard's freshness).
   */
  async adsOfCampaign(campaignId: string, fromQ?: string, toQ?: string) {
    const r = this.stats.range(fromQ, toQ);
    const [rows, newest] = await Promise.all([
      this.db.query(
        `SELECT ad_id, sum(impressions) AS impressions, sum(clicks) AS clicks FROM ad_minute_stats
          WHERE topic = $1 AND campaign_id = $2 AND window_start >= $3 AND window_start < $4 GROUP BY ad_id ORDER BY ad_id`,
        [this.topic, campaignId, r.from, r.to],
      ) as Promise<{ ad_id: string; impressions: string; clicks: string }[]>,
      this.db.query(`SELECT max(window_end) AS w FROM ad_minute_stats WHERE topic = $1`, [this.topic]) as Promise<{ w: string | null }[]>,
    ]);
    const w = newest[0]?.w;
    return {
      campaignId,
      ...r.iso,
      newestWindowEnd: w === null || w === undefined ? null : new Date(Number(w)).toISOString(),
      ads: rows.map((x) => {
        const impressions = Number(x.impressions);
        const clicks = Number(x.clicks);
        return { adId: x.ad_id, impressions, clicks, ctr: ctrOf(impressions, clicks) };
      }),
    };
  }
}
