import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { AdAnalyticsCode, AdAnalyticsError } from '../ad-analytics.errors';
import { WeightedAdIndex } from '../domain';
import { AdSpec, Campaign, CampaignRepository, ServableRow } from '../ports/campaign-repository.port';

/** How often other instances' campaign changes are looked for (a cheap version query). */
const CATALOG_POLL_MS = 1000;

export interface CreateCampaignInput {
  id?: string;
  name: string;
  advertiserId: string;
  ads: AdSpec[];
  active?: boolean;
}

export interface ServeDecision {
  impressionId: string;
  adId: string;
  campaignId: string;
  creativeUrl: string;
}

/**
 * Campaign registry plus the serving snapshot: the active ads held in memory, rebuilt when this
 * instance changes a campaign and when the version query shows another instance did. A serve is a
 * weighted random choice over the snapshot (binary search on cumulative weights) and a UUIDv7 impression id: no I/O on the request path.
 */
@Injectable()
export class CampaignService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ad-analytics.campaigns');
  private snapshot = new WeightedAdIndex<ServableRow>([]);
  private version = '';
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly repo: CampaignRepository,
    private readonly ids: IdGenerator,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((e: unknown) => this.log.warn(`catalog refresh failed: ${(e as Error).message}`)), CATALOG_POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async create(input: CreateCampaignInput): Promise<Campaign> {
    const seen = new Set<string>();
    for (const a of input.ads) {
      if (seen.has(a.id)) throw new AdAnalyticsError('invalid', AdAnalyticsCode.DuplicateAdId, `ad id ${a.id} appears twice in the campaign`);
      seen.add(a.id);
    }
    const id = input.id ?? this.ids.next();
    const r = await this.repo.create({ id, name: input.name, advertiserId: input.advertiserId, active: input.active ?? true, ads: input.ads });
    if (!r.ok && r.conflict === 'campaign') throw new AdAnalyticsError('conflict', AdAnalyticsCode.CampaignExists, `campaign ${r.id} already exists`);
    if (!r.ok) throw new AdAnalyticsError('conflict', AdAnalyticsCode.AdExists, `ad ${r.id} already belongs to a campaign`);
    await this.refresh(true);
    return r.campaign;
  }

  async get(id: string): Promise<Campaign> {
    const c = await this.repo.get(id);
    if (!c) throw notFound(id);
    return c;
  }

  async setActive(id: string, active: boolean): Promise<Campaign> {
    const c = await this.repo.setActive(id, active);
    if (!c) throw notFound(id);
    await this.refresh(true);
    return c;
  }

  async list(limit: number, offset: number) {
    return { campaigns: await this.repo.list(limit, offset) };
  }

  serve(placement: string, random: () => number = Math.random): ServeDecision {
    const ad = this.snapshot.pick(random);
    if (!ad) throw new AdAnalyticsError('not_found', AdAnalyticsCode.NoEligibleAd, `no active ad can be served for placement ${placement}`);
    return { impressionId: this.ids.next(), adId: ad.adId, campaignId: ad.campaignId, creativeUrl: ad.creativeUrl };
  }

  /** Rebuilds the snapshot if the catalogue's version moved (always, when forced). */
  refresh(force = false): Promise<void> {
    const run = async () => {
      const v = await this.repo.version();
      if (!force && v === this.version) return;
      const rows = await this.repo.servable();
      this.snapshot = new WeightedAdIndex(rows);
      this.version = v;
    };
    // Serialised, so a slow poll cannot overwrite a newer forced refresh.
    const p = (this.refreshing ?? Promise.resolve()).then(run, run);
    this.refreshing = p.catch(() => undefined);
    return p;
  }
}

const notFound = (id: string) => new AdAnalyticsError('not_found', AdAnalyticsCode.CampaignNotFound, `campaign ${id} does not exist`);
