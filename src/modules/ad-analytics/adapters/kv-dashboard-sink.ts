import { Injectable } from '@nestjs/common';
import { AdAnalyticsConfig } from '../ad-analytics.config';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import type { WindowAggregate } from '../domain';
import { DashboardSink } from '../ports/stream-state.port';

const KEY_TTL_MS = 2 * 24 * 3600_000;

/**
 * The dashboard's real-time store in Redis: per ad and per campaign a hash whose field is
 * `windowStart:partition` and whose value is that partition's final `impressions:clicks` for the
 * window; readers sum the partitions.
 *
 * Why absolute values per partition rather than the seed's HINCRBY: the worker may write the same
 * window twice (a crash between the PostgreSQL commit and the Redis write replays the checkpoint's
 * outbox; a restarted worker recomputes the same windows). HSET of a final value is idempotent, an
 * increment is not, and guarding increments would need a per-(partition, window) dedup key anyway.
 * The cost is one field per partition, summed on read (KAFKA_PARTITIONS fields per minute).
 */
@Injectable()
export class KvDashboardSink extends DashboardSink {
  private readonly namespace: string;

  constructor(
    private readonly kv: KeyValueStore,
    config: AdAnalyticsConfig,
  ) {
    super();
    this.namespace = config.NAMESPACE;
  }

  private adKey(adId: string): string {
    return `${this.namespace}:ads:rt:ad:${adId}`;
  }
  private campaignKey(campaignId: string): string {
    return `${this.namespace}:ads:rt:campaign:${campaignId}`;
  }

  async write(partition: number, windows: readonly WindowAggregate[]): Promise<void> {
    if (windows.length === 0) return;
    const perAd = new Map<string, Record<string, string>>();
    const perCampaign = new Map<string, Map<string, [number, number]>>();
    for (const w of windows) {
      const field = `${w.windowStart}:${partition}`;
      let a = perAd.get(w.adId);
      if (!a) perAd.set(w.adId, (a = {}));
      a[field] = `${w.impressions}:${w.clicks}`;
      // A window closes for the whole partition at once, so the campaign sum over these rows is final.
      let c = perCampaign.get(w.campaignId);
      if (!c) perCampaign.set(w.campaignId, (c = new Map()));
      const prev = c.get(field) ?? [0, 0];
      c.set(field, [prev[0] + w.impressions, prev[1] + w.clicks]);
    }
    const ops: Promise<unknown>[] = [];
    for (const [adId, fields] of perAd) {
      ops.push(this.kv.hSet(this.adKey(adId), fields), this.kv.pExpire(this.adKey(adId), KEY_TTL_MS));
    }
    for (const [campaignId, m] of perCampaign) {
      const fields: Record<string, string> = {};
      for (const [f, [i, c]] of m) fields[f] = `${i}:${c}`;
      ops.push(this.kv.hSet(this.campaignKey(campaignId), fields), this.kv.pExpire(this.campaignKey(campaignId), KEY_TTL_MS));
    }
    await Promise.all(ops);
  }
}
