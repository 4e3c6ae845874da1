// Turning stored per-(partition, window, ad) rows into the /stats response: buckets and totals.

export interface WindowCounts {
  windowStart: number;
  impressions: number;
  clicks: number;
}

export interface StatsBucket {
  minute: string;
  impressions: number;
  clicks: number;
  /** clicks / impressions; null when the bucket has no impressions (a click counts in its own minute). */
  ctr: number | null;
}

export interface StatsView {
  buckets: StatsBucket[];
  totals: { impressions: number; clicks: number; ctr: number | null };
}

export function ctrOf(impressions: number, clicks: number): number | null {
  return impressions > 0 ? clicks / impressions : null;
}

/** Rows already summed over partitions, one per window; sorted by window; empty windows are left out. */
export function toStatsView(rows: readonly WindowCounts[]): StatsView {
  const sorted = [...rows].sort((a, b) => a.windowStart - b.windowStart);
  let impressions = 0;
  let clicks = 0;
  const buckets = sorted.map((r) => {
    impressions += r.impressions;
    clicks += r.clicks;
    return { minute: new Date(r.windowStart).toISOString(), impressions: r.impressions, clicks: r.clicks, ctr: ctrOf(r.impressions, r.clicks) };
  });
  return { buckets, totals: { impressions, clicks, ctr: ctrOf(impressions, clicks) } };
}

/** Parses a `from`/`to` query value: epoch milliseconds or an ISO 8601 date-time. */
export function parseTime(v: string): number | null {
  if (/^\d{1,15}$/.test(v)) return Number(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}
