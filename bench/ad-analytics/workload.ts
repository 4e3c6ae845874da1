/**
 * Synthetic ad traffic for the pipeline benchmarks: impressions over 10,000 ads (500 campaigns) with
 * Zipf(1) skew, 1 % of them clicked 0-30 s later, in event-time order with local reordering of up
 * to 2 s (within the default 5 s out-of-orderness, so nothing is late). Event time advances
 * `eventRate` impressions per second. Also returns the true per-ad totals to check the output against.
 */
import { Partitioners } from 'kafkajs';
import type { AdEvent } from '../../src/modules/ad-analytics/domain';

export const ADS = 10_000;
export const CAMPAIGNS = 500;
export const T0 = Date.UTC(2026, 0, 1);

export interface Workload {
  events: AdEvent[];
  impressions: number;
  clicks: number;
  lastTs: number;
}

/** Draws an ad index in [0, ads) with Zipf(1) skew (index 0 most often), one `rnd()` call per draw. */
export function zipfPicker(ads: number, rnd: () => number): () => number {
  const cum = new Float64Array(ads);
  let acc = 0;
  for (let i = 0; i < ads; i++) cum[i] = acc += 1 / (i + 1);
  return () => {
    const x = rnd() * acc;
    let lo = 0;
    let hi = ads - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function makeWorkload(impressions: number, eventRate = 2000, seed = 12345): Workload {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = zipfPicker(ADS, rnd);
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const run = hex(Math.floor(rnd() * 2 ** 32), 8);
  const events: (AdEvent & { k: number })[] = [];
  let clicks = 0;
  for (let i = 0; i < impressions; i++) {
    const ts = T0 + Math.floor((i * 1000) / eventRate);
    const ad = pick();
    // 36 characters, like the UUIDv7 /ads/serve hands out
    const impressionId = `${run}-${hex(i >>> 16, 4)}-7000-8000-${hex(i, 12)}`;
    const e = { type: 'impression' as const, impressionId, adId: `ad${ad}`, campaignId: `c${ad % CAMPAIGNS}`, ts };
    events.push({ ...e, k: ts + rnd() * 2000 });
    if (rnd() < 0.01) {
      clicks++;
      const cts = ts + Math.floor(rnd() * 30_000);
      events.push({ ...e, type: 'click', ts: cts, k: cts + rnd() * 2000 });
    }
  }
  events.sort((a, b) => a.k - b.k);
  const out: AdEvent[] = events.map(({ k: _k, ...e }) => e);
  return { events: out, impressions, clicks, lastTs: T0 + Math.floor((impressions * 1000) / eventRate) + 30_000 };
}

/** One far-future impression per partition, so every partition's watermark closes all windows of the workload. */
export function closers(partitions: number, ts: number): AdEvent[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const meta = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
  const out: AdEvent[] = [];
  const covered = new Set<number>();
  for (let i = 0; covered.size < partitions; i++) {
    const impressionId = `closer-${ts}-${i}`;
    const p = partitioner({ topic: 'x', partitionMetadata: meta as never, message: { key: impressionId, value: '' } });
    if (covered.has(p)) continue;
    covered.add(p);
    out.push({ type: 'impression', impressionId, adId: 'closer', campaignId: 'closer', ts });
  }
  return out;
}
