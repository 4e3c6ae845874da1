// The T+1 report over the raw archive, as plain TypeScript (no I/O). Two views of one day:
//
// - exact ("offline"): every unique event with event time in the day, late ones included. Same rules as
//   the stream core (domain/stream-processor.ts): dedup by (type, impressionId), the first arrival
//   (lowest offset) wins; a click counts only if its impression exists and |click.ts − imp.ts| ≤ TTL; a
//   joined click counts in the hour of the CLICK under the IMPRESSION's ad and campaign.
// - on time: what the real-time path must have counted — the very PartitionProcessor replayed over the
//   partition's records in offset order, so windows, watermark, lateness and TTL expiry are the stream's
//   own code, not a re-implementation. exact − on time is the explained difference (late events).
//
// The join is local to an impressionId and events are keyed by it, so each Kafka partition is
// processed on its own: memory is bounded by one partition's slice of the day, not the whole day.
import { AdEvent, cmp, PartitionProcessor, StreamConfig } from './stream-processor';
import { DAY_MS, HOUR_MS } from './archive-layout';

export interface ArchivedRecord {
  partition: number;
  offset: bigint;
  event: AdEvent;
}

export interface ReportCell {
  /** 0..23, UTC */
  hour: number;
  adId: string;
  campaignId: string;
  impressions: number;
  clicks: number;
  onTimeImpressions: number;
  onTimeClicks: number;
}

export interface DailyReport {
  /** one per (hour, ad, campaign) with any count, sorted by hour, ad, campaign */
  cells: ReportCell[];
  /** archived records read (margin hours and archive re-writes included) */
  recordsRead: number;
  /** repeated (type, impressionId) among the day's events, counted once in the report */
  duplicates: number;
  /** unique clicks of the day whose impression was not found within the TTL */
  unmatchedClicks: number;
}

/** Per-partition replay flushes everything at the end: an idle gap far beyond any TTL. */
const END_OF_TIME_IDLE_MS = 1e15;
const REPLAY_BATCH = 1000;
const SEP = '\u0000';

export class DailyReportBuilder {
  private readonly cells = new Map<string, ReportCell>();
  private recordsRead = 0;
  private duplicates = 0;
  private unmatchedClicks = 0;

  constructor(
    private readonly dayStart: number,
    private readonly cfg: StreamConfig,
  ) {}

  /** Adds every archived record of one Kafka partition (any order; copies of one offset collapse). */
  addPartition(records: readonly ArchivedRecord[]): void {
    this.recordsRead += records.length;
    const byOffset = new Map<bigint, ArchivedRecord>();
    for (const r of records) if (!byOffset.has(r.offset)) byOffset.set(r.offset, r);
    const ordered = [...byOffset.values()].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    this.exact(ordered.map((r) => r.event));
    this.replay(ordered.map((r) => r.event));
  }

  result(): DailyReport {
    const cells = [...this.cells.values()].sort(
      (a, b) => a.hour - b.hour || cmp(a.adId, b.adId) || cmp(a.campaignId, b.campaignId),
    );
    return {
      cells,
      recordsRead: this.recordsRead,
      duplicates: this.duplicates,
      unmatchedClicks: this.unmatchedClicks,
    };
  }

  private inDay(ts: number): boolean {
    return ts >= this.dayStart && ts < this.dayStart + DAY_MS;
  }

  private cell(ts: number, adId: string, campaignId: string): ReportCell {
    const hour = Math.floor((ts - this.dayStart) / HOUR_MS);
    const key = hour + SEP + adId + SEP + campaignId;
    let c = this.cells.get(key);
    if (!c) {
      c = { hour, adId, campaignId, impressions: 0, clicks: 0, onTimeImpressions: 0, onTimeClicks: 0 };
      this.cells.set(key, c);
    }
    return c;
  }

  private exact(events: AdEvent[]): void {
    const imps = new Map<string, AdEvent>();
    const clicks = new Map<string, AdEvent>();
    for (const e of events) {
      const seen = e.type === 'impression' ? imps : clicks;
      if (seen.has(e.impressionId)) {
        if (this.inDay(e.ts)) this.duplicates++;
      } else {
        seen.set(e.impressionId, e);
      }
    }
    for (const e of imps.values()) if (this.inDay(e.ts)) this.cell(e.ts, e.adId, e.campaignId).impressions++;
    for (const c of clicks.values()) {
      if (!this.inDay(c.ts)) continue;
      const imp = imps.get(c.impressionId);
      if (imp && Math.abs(c.ts - imp.ts) <= this.cfg.ttlMs) this.cell(c.ts, imp.adId, imp.campaignId).clicks++;
      else this.unmatchedClicks++;
    }
  }

  private replay(events: AdEvent[]): void {
    const p = new PartitionProcessor(this.cfg);
    const take = (rows: ReturnType<PartitionProcessor['process']>['closedWindows']) => {
      for (const w of rows) {
        if (!this.inDay(w.windowStart)) continue;
        const c = this.cell(w.windowStart, w.adId, w.campaignId);
        c.onTimeImpressions += w.impressions;
        c.onTimeClicks += w.clicks;
      }
    };
    for (let i = 0; i < events.length; i += REPLAY_BATCH) take(p.process(events.slice(i, i + REPLAY_BATCH), 0).closedWindows);
    take(p.onIdle(END_OF_TIME_IDLE_MS).closedWindows);
  }
}

/**
 * Per-(ad, campaign) rows summed per ad, per campaign and in total, each into an accumulator from
 * `make`; the views and the reconciliation both read the day this way.
 */
export class RollUp<A> {
  readonly total: A;
  private readonly ads = new Map<string, { adId: string; campaignId: string; acc: A }>();
  private readonly campaigns = new Map<string, A>();

  constructor(private readonly make: () => A) {
    this.total = make();
  }

  /** The accumulators a row adds to: its ad's, its campaign's and the total. */
  of(adId: string, campaignId: string): A[] {
    const k = `${adId}\u0000${campaignId}`;
    let a = this.ads.get(k);
    if (!a) this.ads.set(k, (a = { adId, campaignId, acc: this.make() }));
    let c = this.campaigns.get(campaignId);
    if (!c) this.campaigns.set(campaignId, (c = this.make()));
    return [a.acc, c, this.total];
  }

  /** Each accumulator as `figures` sees it: campaigns by id, ads by campaign, then ad. */
  rows<F extends object>(figures: (acc: A) => F) {
    return {
      totals: figures(this.total),
      campaigns: [...this.campaigns].sort((x, y) => cmp(x[0], y[0])).map(([campaignId, acc]) => ({ campaignId, ...figures(acc) })),
      ads: [...this.ads.values()]
        .sort((x, y) => cmp(x.campaignId, y.campaignId) || cmp(x.adId, y.adId))
        .map((a) => ({ adId: a.adId, campaignId: a.campaignId, ...figures(a.acc) })),
    };
  }
}
