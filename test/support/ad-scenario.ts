/**
 * An ad stream whose truth is written down by the generator: duplicates and out-of-order clicks,
 * with the expected closed-window counts per ad and minute. Used by the ad fault tests, the cluster
 * suite and the scale-out bench.
 */

export interface AdEvent {
  type: 'impression' | 'click';
  impressionId: string;
  adId: string;
  campaignId: string;
  ts: number;
}

export type WindowCounts = Map<string, { impressions: number; clicks: number }>;

/**
 * An in-order stream (event time runs 200 ms per impression) with duplicate impressions and clicks,
 * clicks before their impressions and clicks that never match, in `batches` batches of `perBatch`
 * impressions; then "closer" impressions 12 minutes later in event time that move every
 * partition's watermark past the allowed lateness, so every window of the real ads closes.
 * `expected`: per `adId|windowStart` the counts a correct pipeline ends with (duplicates and
 * unmatched clicks not counted; the closer ad left out).
 */
export function adScenario(tag: string, batches: number, perBatch: number) {
  const day = Date.UTC(2041 + Math.floor(Math.random() * 48), Math.floor(Math.random() * 12), 1 + Math.floor(Math.random() * 28));
  const base = day + 6 * 3_600_000;
  const ads = Array.from({ length: 20 }, (_, i) => ({ adId: `${tag}-ad${i}`, campaignId: `${tag}-c${i % 2}` }));
  const expected: WindowCounts = new Map();
  const count = (adId: string, ts: number, f: 'impressions' | 'clicks') => {
    const k = `${adId}|${ts - (ts % 60_000)}`;
    const e = expected.get(k) ?? { impressions: 0, clicks: 0 };
    e[f]++;
    expected.set(k, e);
  };
  const out: AdEvent[][] = [];
  let i = 0;
  for (let b = 0; b < batches; b++) {
    const batch: AdEvent[] = [];
    for (let j = 0; j < perBatch; j++, i++) {
      const ts = base + i * 200;
      const ad = ads[i % ads.length];
      const imp: AdEvent = { type: 'impression', impressionId: `${tag}-${i}`, ...ad, ts };
      if (i % 25 === 7) {
        batch.push({ ...imp, type: 'click', ts: ts - 100 }); // before its impression
        count(ad.adId, ts - 100, 'clicks');
      }
      batch.push(imp);
      count(ad.adId, ts, 'impressions');
      if (i % 13 === 0) batch.push({ ...imp }); // duplicate impression
      if (i % 10 === 0) {
        const c: AdEvent = { ...imp, type: 'click', ts: ts + 300 };
        batch.push(c);
        count(ad.adId, c.ts, 'clicks');
        if (i % 50 === 0) batch.push({ ...c }); // duplicate click
      }
      if (i % 40 === 9) batch.push({ type: 'click', impressionId: `${tag}-ghost-${i}`, ...ad, ts }); // never matched
    }
    out.push(batch);
  }
  const end = base + i * 200;
  out.push(
    Array.from({ length: 60 }, (_, k) => ({ type: 'impression' as const, impressionId: `${tag}-closer-${k}`, adId: `${tag}-closer`, campaignId: `${tag}-c0`, ts: end + 12 * 60_000 })),
  );
  return { batches: out, expected, ads: ads.map((a) => a.adId), closerAd: `${tag}-closer`, from: base - (base % 60_000), to: end + 60_000 };
}
