// Rolls the stored report cells up to days, ads and campaigns, and lines them up against what the
// real-time store holds for the same day. "matches" compares the real-time counts with the on-time
// replay (they must be equal when the stream is exactly once); the offline − real-time difference is
// then fully explained by late events, which only the offline report counts.
import { ReportCell, RollUp } from './daily-report';

export interface Counts {
  impressions: number;
  clicks: number;
}

export interface RealtimeRow extends Counts {
  adId: string;
  campaignId: string;
}

export interface ReconciledRow {
  offline: Counts & { ctr: number };
  onTime: Counts;
  realtime: Counts;
  /** offline − on time: events the real-time path counted as late (appear offline only) */
  late: Counts;
  /** offline − real-time */
  diff: Counts;
  /** real-time − on time: should be zero; anything else is lost or double-counted */
  unexplained: Counts;
  matches: boolean;
}

export interface Reconciliation {
  matches: boolean;
  totals: ReconciledRow;
  campaigns: (ReconciledRow & { campaignId: string })[];
  ads: (ReconciledRow & { adId: string; campaignId: string })[];
}

export function ctr(c: Counts): number {
  return c.impressions === 0 ? 0 : c.clicks / c.impressions;
}

interface Acc {
  offline: Counts;
  onTime: Counts;
  realtime: Counts;
}

const zero = (): Acc => ({
  offline: { impressions: 0, clicks: 0 },
  onTime: { impressions: 0, clicks: 0 },
  realtime: { impressions: 0, clicks: 0 },
});
const sub = (a: Counts, b: Counts): Counts => ({ impressions: a.impressions - b.impressions, clicks: a.clicks - b.clicks });
const isZero = (c: Counts) => c.impressions === 0 && c.clicks === 0;

function finish(a: Acc): ReconciledRow {
  const unexplained = sub(a.realtime, a.onTime);
  return {
    offline: { ...a.offline, ctr: ctr(a.offline) },
    onTime: a.onTime,
    realtime: a.realtime,
    late: sub(a.offline, a.onTime),
    diff: sub(a.offline, a.realtime),
    unexplained,
    matches: isZero(unexplained),
  };
}

export function reconcile(cells: readonly ReportCell[], realtime: readonly RealtimeRow[]): Reconciliation {
  const roll = new RollUp(zero);
  for (const cell of cells) {
    for (const acc of roll.of(cell.adId, cell.campaignId)) {
      acc.offline.impressions += cell.impressions;
      acc.offline.clicks += cell.clicks;
      acc.onTime.impressions += cell.onTimeImpressions;
      acc.onTime.clicks += cell.onTimeClicks;
    }
  }
  for (const r of realtime) {
    for (const acc of roll.of(r.adId, r.campaignId)) {
      acc.realtime.impressions += r.impressions;
      acc.realtime.clicks += r.clicks;
    }
  }
  const rows = roll.rows(finish);
  return { matches: rows.ads.every((r) => r.matches), ...rows };
}
