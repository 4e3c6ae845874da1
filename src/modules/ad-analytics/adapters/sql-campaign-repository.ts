import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { exec, select } from '../../../platform/database/rows-of';
import { AdAnalyticsConfig } from '../ad-analytics.config';
import { AdSpec, Campaign, CampaignRepository, CreateOutcome, ServableRow } from '../ports/campaign-repository.port';

interface CampaignRow {
  id: string;
  name: string;
  advertiser_id: string;
  active: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

class AdTaken extends Error {
  constructor(readonly adId: string) {
    super(`ad ${adId} exists`);
  }
}

/** Campaigns and their ads, per namespace (PostgreSQL or PGlite, same queries). */
@Injectable()
export class SqlCampaignRepository extends CampaignRepository {
  private readonly namespace: string;

  constructor(
    private readonly db: DataSource,
    config: AdAnalyticsConfig,
  ) {
    super();
    this.namespace = config.NAMESPACE;
  }

  async create(c: { id: string; name: string; advertiserId: string; active: boolean; ads: AdSpec[] }): Promise<CreateOutcome> {
    try {
      return await this.db.transaction(async (m) => {
        const inserted = await select<unknown>(m,
          `INSERT INTO ad_campaigns (namespace, id, name, advertiser_id, active) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (namespace, id) DO NOTHING RETURNING id`,
          [this.namespace, c.id, c.name, c.advertiserId, c.active],
        );
        if (inserted.length === 0) return { ok: false, conflict: 'campaign', id: c.id } as const;
        const ads = await select<{ id: string }>(m,
          `INSERT INTO ad_ads (namespace, id, campaign_id, creative_url, weight, position)
           SELECT $1, x.id, $2, x."creativeUrl", x.weight, x.position
           FROM jsonb_to_recordset($3::jsonb) AS x(id text, "creativeUrl" text, weight double precision, position integer)
           ON CONFLICT (namespace, id) DO NOTHING RETURNING id`,
          [this.namespace, c.id, JSON.stringify(c.ads.map((a, position) => ({ ...a, position })))],
        );
        if (ads.length < c.ads.length) {
          const mine = new Set(ads.map((a) => a.id));
          throw new AdTaken(c.ads.find((a) => !mine.has(a.id))!.id); // rolls the campaign back too
        }
        return { ok: true, campaign: (await this.getWith(m, c.id))! } as const;
      });
    } catch (e) {
      if (e instanceof AdTaken) return { ok: false, conflict: 'ad', id: e.adId };
      throw e;
    }
  }

  get(id: string): Promise<Campaign | null> {
    return this.getWith(this.db.manager, id);
  }

  async setActive(id: string, active: boolean): Promise<Campaign | null> {
    const { count } = await exec(
      this.db,
      'UPDATE ad_campaigns SET active = $3, updated_at = now() WHERE namespace = $1 AND id = $2 RETURNING id',
      [this.namespace, id, active],
    );
    return count === 0 ? null : this.get(id);
  }

  async list(limit: number, offset: number) {
    const rows = await select<{ id: string; name: string; advertiser_id: string; active: boolean; ads: number }>(this.db,
      `SELECT c.id, c.name, c.advertiser_id, c.active, (SELECT count(*)::int FROM ad_ads a WHERE a.namespace = c.namespace AND a.campaign_id = c.id) AS ads
         FROM ad_campaigns c WHERE c.namespace = $1 ORDER BY c.created_at DESC, c.id LIMIT $2 OFFSET $3`,
      [this.namespace, limit, offset],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, advertiserId: r.advertiser_id, active: r.active, ads: r.ads }));
  }

  async servable(): Promise<ServableRow[]> {
    const rows = await select<{ id: string; campaign_id: string; creative_url: string; weight: number }>(this.db,
      `SELECT a.id, a.campaign_id, a.creative_url, a.weight FROM ad_ads a
       JOIN ad_campaigns c ON c.namespace = a.namespace AND c.id = a.campaign_id
       WHERE a.namespace = $1 AND c.active AND a.weight > 0 ORDER BY a.campaign_id, a.position`,
      [this.namespace],
    );
    return rows.map((r) => ({ adId: r.id, campaignId: r.campaign_id, creativeUrl: r.creative_url, weight: Number(r.weight) }));
  }

  async version(): Promise<string> {
    const rows = await select<{ v: string | null; n: string }>(this.db,
      `SELECT max(updated_at)::text AS v, count(*)::text AS n FROM ad_campaigns WHERE namespace = $1`,
      [this.namespace],
    );
    return `${rows[0].v ?? ''}/${rows[0].n}`;
  }

  private async getWith(m: { query: DataSource['query'] }, id: string): Promise<Campaign | null> {
    const rows = await select<CampaignRow>(m,
      'SELECT id, name, advertiser_id, active, created_at, updated_at FROM ad_campaigns WHERE namespace = $1 AND id = $2',
      [this.namespace, id],
    );
    if (rows.length === 0) return null;
    const ads = await select<{ id: string; creative_url: string; weight: number }>(m,
      'SELECT id, creative_url, weight FROM ad_ads WHERE namespace = $1 AND campaign_id = $2 ORDER BY position',
      [this.namespace, id],
    );
    const r = rows[0];
    return {
      id: r.id,
      name: r.name,
      advertiserId: r.advertiser_id,
      active: r.active,
      ads: ads.map((a) => ({ id: a.id, creativeUrl: a.creative_url, weight: Number(a.weight) })),
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    };
  }
}
