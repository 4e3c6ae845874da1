/**
 * Workloads of the cluster suite whose truth is written down by the generator: an ad stream with
 * duplicates and out-of-order clicks (expected closed-window counts per ad and minute), and the
 * checks over the GPU scheduler's binding rows (no GPU held by two tasks at once).
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
  return { batches: out, expected, ads: ads.map((a) => a.adId), from: base - (base % 60_000), to: end + 60_000 };
}

export const sortedEntries = <V>(m: Map<string, V>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

export interface AllocationRow {
  task_id: string;
  attempt: number;
  node_id: string;
  gpu_index: number;
  milli: number;
  bound_at_ms: string;
  released_at_ms: string | null;
}

/**
 * Sweeps every binding row in time order: per GPU, the milli held at once never passes 1000 (a
 * whole-GPU task holds 1000, so two whole tasks on one GPU at once show up here); per task, two
 * attempts never hold GPUs at the same time. Returns what was wrong, empty when nothing.
 */
export function allocationProblems(rows: AllocationRow[]): string[] {
  const problems: string[] = [];
  const events: { at: number; d: number; r: AllocationRow }[] = [];
  for (const r of rows) {
    events.push({ at: Number(r.bound_at_ms), d: +1, r });
    events.push({ at: r.released_at_ms === null ? Number.MAX_SAFE_INTEGER : Number(r.released_at_ms), d: -1, r });
  }
  // Releases before binds at the same millisecond: a GPU freed and taken in one instant is not shared.
  events.sort((a, b) => a.at - b.at || a.d - b.d);
  const milli = new Map<string, number>();
  const attemptsLive = new Map<string, Map<number, number>>();
  for (const e of events) {
    const g = `${e.r.node_id}/${e.r.gpu_index}`;
    const m = (milli.get(g) ?? 0) + e.d * e.r.milli;
    milli.set(g, m);
    if (m > 1000) problems.push(`GPU ${g} over 1000 milli at ${e.at} (task ${e.r.task_id}#${e.r.attempt})`);
    const live = attemptsLive.get(e.r.task_id) ?? new Map<number, number>();
    live.set(e.r.attempt, (live.get(e.r.attempt) ?? 0) + e.d);
    if (live.get(e.r.attempt) === 0) live.delete(e.r.attempt);
    attemptsLive.set(e.r.task_id, live);
    if (live.size > 1) problems.push(`task ${e.r.task_id} holds GPUs under attempts ${[...live.keys()].join(',')} at ${e.at}`);
  }
  return problems;
}
