import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { AdAnalyticsCode, AdAnalyticsError } from '../ad-analytics.errors';
import { ctrOf, parseTime, StatsView, toStatsView } from '../domain';
import { FlushedRow, StatsRepository } from '../ports/stats-repository.port';

const DEFAULT_RANGE_MS = 3600_000;
const MAX_RANGE_MS = 7 * 24 * 3600_000;
const STREAM_POLL_MS = 500;
const STREAM_BATCH = 5000;

export interface MinuteUpdate {
  minute: string;
  windowEnd: string;
  ads: { adId: string; campaignId: string; impressions: number; clicks: number; ctr: number | null }[];
}

interface Listener {
  push(u: MinuteUpdate): void;
  /** the process is shutting down: end the response so the server can close */
  end(): void;
}

/**
 * /stats reads closed windows from PostgreSQL (the durable real-time store), summing partitions.
 * /stats/stream: one poller per process (only while clients listen) follows ad_minute_stats by
 * flush sequence, so it sees windows closed by any worker instance, and fans them out.
 */
@Injectable()
export class StatsService implements OnModuleDestroy {
  private readonly log = new Logger('ad-analytics.stats');
  private readonly listeners = new Set<Listener>();
  private timer?: NodeJS.Timeout;
  private lastSeq = 0;
  private polling = false;

  constructor(
    private readonly repo: StatsRepository,
    private readonly clock: Clock,
  ) {}

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const l of this.listeners) l.end();
    this.listeners.clear();
  }

  async forAd(adId: string, from?: string, to?: string): Promise<StatsView & { adId: string; from: string; to: string }> {
    const r = this.range(from, to);
    return { adId, ...r.iso, ...toStatsView(await this.repo.byAd(adId, r.from, r.to)) };
  }

  async forCampaign(campaignId: string, from?: string, to?: string): Promise<StatsView & { campaignId: string; from: string; to: string }> {
    const r = this.range(from, to);
    return { campaignId, ...r.iso, ...toStatsView(await this.repo.byCampaign(campaignId, r.from, r.to)) };
  }

  /**
   * Totals per ad of a campaign over [from, to) (the web console's ads page), and the end of the
   * newest closed window of the whole pipeline (the dashboard's freshness).
   */
  async adsOfCampaign(campaignId: string, fromQ?: string, toQ?: string) {
    const r = this.range(fromQ, toQ);
    const [ads, newest] = await Promise.all([this.repo.adsOfCampaign(campaignId, r.from, r.to), this.repo.newestWindowEnd()]);
    return {
      campaignId,
      ...r.iso,
      newestWindowEnd: newest === null ? null : new Date(newest).toISOString(),
      ads: ads.map((a) => ({ ...a, ctr: ctrOf(a.impressions, a.clicks) })),
    };
  }

  /** [from, to) over window starts; default the last hour; at most 7 days. */
  private range(fromQ?: string, toQ?: string) {
    const to = toQ === undefined ? this.clock.now() : parseTime(toQ);
    if (to === null) throw invalid(AdAnalyticsCode.InvalidTime, 'to must be epoch milliseconds or an ISO 8601 date-time', { field: 'to' });
    const from = fromQ === undefined ? to - DEFAULT_RANGE_MS : parseTime(fromQ);
    if (from === null) throw invalid(AdAnalyticsCode.InvalidTime, 'from must be epoch milliseconds or an ISO 8601 date-time', { field: 'from' });
    if (from >= to) throw invalid(AdAnalyticsCode.InvalidRange, 'from must be before to', { field: 'from' });
    if (to - from > MAX_RANGE_MS) throw invalid(AdAnalyticsCode.InvalidRange, 'the range may span at most 7 days', { field: 'to' });
    return { from, to, iso: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } };
  }

  /** Registers an SSE listener; returns the function that removes it. */
  async listen(fn: Listener): Promise<() => void> {
    this.listeners.add(fn);
    if (!this.timer) {
      // set before the await, so concurrent first listeners start one poller
      this.timer = setInterval(() => void this.poll(), STREAM_POLL_MS);
      this.timer.unref();
      this.polling = true; // no poll until the starting point is known
      try {
        this.lastSeq = await this.repo.lastSeq();
      } finally {
        this.polling = false;
      }
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const rows = await this.repo.flushedAfter(this.lastSeq, STREAM_BATCH);
      if (rows.length === 0) return;
      this.lastSeq = rows[rows.length - 1].seq;
      for (const u of groupByMinute(rows)) for (const l of this.listeners) l.push(u);
    } catch (e) {
      this.log.warn(`stats stream poll failed: ${(e as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}

function groupByMinute(rows: FlushedRow[]): MinuteUpdate[] {
  const by = new Map<number, MinuteUpdate>();
  for (const r of rows) {
    let u = by.get(r.windowStart);
    if (!u) by.set(r.windowStart, (u = { minute: new Date(r.windowStart).toISOString(), windowEnd: new Date(r.windowEnd).toISOString(), ads: [] }));
    u.ads.push({ adId: r.adId, campaignId: r.campaignId, impressions: r.impressions, clicks: r.clicks, ctr: ctrOf(r.impressions, r.clicks) });
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([, u]) => u);
}

const invalid = (code: AdAnalyticsCode, message: string, extra: { field: string }) => new AdAnalyticsError('invalid', code, message, extra);
