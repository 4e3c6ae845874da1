import type { WindowAggregate, WindowCounts } from '../domain';

/** A closed (window, ad) row summed over the partitions flushed so far, with its flush sequence number. */
export interface FlushedRow extends WindowAggregate {
  seq: number;
}

/** The real-time store's closed windows (per partition, window and ad), read with the partitions summed. */
export abstract class StatsRepository {
  abstract byAd(adId: string, from: number, to: number): Promise<WindowCounts[]>;
  abstract byCampaign(campaignId: string, from: number, to: number): Promise<WindowCounts[]>;
  /** Totals per ad of a campaign over windows starting in [from, to). */
  abstract adsOfCampaign(campaignId: string, from: number, to: number): Promise<{ adId: string; impressions: number; clicks: number }[]>;
  /** End of the newest closed window (epoch ms), or null when none is stored. */
  abstract newestWindowEnd(): Promise<number | null>;
  /** The newest flush sequence number (where a new SSE client starts). */
  abstract lastSeq(): Promise<number>;
  /** Rows written after `seq`, with each (window, ad) summed over all partitions so far. */
  abstract flushedAfter(seq: number, limit: number): Promise<FlushedRow[]>;
}
