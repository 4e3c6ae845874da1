import { gpuShareOf, RunningTask, Task, Tier, UsageRecord } from './model';

export interface QuotaOptions {
  /** Sliding window over which GPU-time shares are measured (seconds). Default 3600. */
  windowSec: number;
  /** Target VIP share of GPU time in the window, 0..1. Default 0.8 (80:20). */
  vipShare: number;
}

export interface AgingOptions {
  /** Wait after which a task's priority stops growing (Slurm PriorityMaxAge-like): it is starved and goes first. Default 7200 s. */
  maxAgeSec: number;
}

export const DEFAULT_QUOTA: QuotaOptions = { windowSec: 3600, vipShare: 0.8 };
export const DEFAULT_AGING: AgingOptions = { maxAgeSec: 7200 };

/**
 * GPU-seconds used per tier inside [now - windowSec, now], from finished records and running tasks; with
 * `committed`, plus what running tasks are predicted to hold in (now, now + windowSec].
 */
export function windowUsage(
  history: readonly UsageRecord[],
  running: readonly RunningTask[],
  now: number,
  windowSec: number,
  committed = false,
): Record<Tier, number> {
  const from = now - windowSec;
  // two plain accumulators (a keyed `u[tier] +=` is several times slower on this per-cycle path)
  let vip = 0;
  let normal = 0;
  for (const r of history) {
    const o = Math.min(r.end, now) - Math.max(r.start, from);
    if (o > 0) {
      if (r.tier === 'vip') vip += o * r.gpuCount;
      else normal += o * r.gpuCount;
    }
  }
  for (const r of running) {
    const vipTask = r.task.tier === 'vip';
    const o = now - Math.max(r.startedAt, from);
    if (o > 0) {
      if (vipTask) vip += o * gpuShareOf(r.task);
      else normal += o * gpuShareOf(r.task);
    }
    if (committed) {
      const ahead = Math.min(r.predictedEndAt, now + windowSec) - now;
      if (ahead > 0) {
        if (vipTask) vip += ahead * gpuShareOf(r.task);
        else normal += ahead * gpuShareOf(r.task);
      }
    }
  }
  return { vip, normal };
}

const byAgeThenId = (a: Task, b: Task) => a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function fifoOrder(queue: readonly Task[]): Task[] {
  return [...queue].sort(byAgeThenId);
}

export function strictPriorityOrder(queue: readonly Task[]): Task[] {
  return [...queue].sort((a, b) => (a.tier === b.tier ? byAgeThenId(a, b) : a.tier === 'vip' ? -1 : 1));
}

/**
 * Full policy order, one task at a time (undefined at the end).
 * 1. Tasks whose wait reached the aging cap ("starved": effective priority at its maximum) come first,
 *    oldest first, whatever their tier. This is what bounds a normal task's wait (see docs).
 * 2. The rest interleave by quota: the next task is VIP while VIP's GPU-time share in the window
 *    (counting the usage this ordering has already handed out, at `chargeSec` per task) is below
 *    `vipShare`, else normal; when one tier is empty, the other. Within a tier: effective priority,
 *    i.e. oldest first.
 * This is the priority order used by the cycle (head = first task that cannot start). The quota
 * interleave -- and the runtime prediction it charges per task -- is only computed as far as the cycle
 * reads, which stops once no GPU is left: with a long queue on a full cluster that is most of a
 * cycle's cost saved.
 */
export function fullOrderStream(
  queue: readonly Task[],
  now: number,
  usage: Record<Tier, number>,
  quota: QuotaOptions,
  aging: AgingOptions,
  chargeSec: (t: Task) => number,
): () => Task | undefined {
  const starved: Task[] = [];
  const vip: Task[] = [];
  const normal: Task[] = [];
  for (const t of queue) {
    if (now - t.submittedAt >= aging.maxAgeSec) starved.push(t);
    else (t.tier === 'vip' ? vip : normal).push(t);
  }
  starved.sort(byAgeThenId);
  vip.sort(byAgeThenId);
  normal.sort(byAgeThenId);
  let v = usage.vip;
  let n = usage.normal;
  let s = 0;
  let i = 0;
  let j = 0;
  return () => {
    if (s < starved.length) return starved[s++];
    if (i >= vip.length && j >= normal.length) return undefined;
    const total = v + n;
    const vipUnder = quota.vipShare >= 1 || (total === 0 ? quota.vipShare > 0 : v < quota.vipShare * total);
    const pickVip = j >= normal.length || (i < vip.length && vipUnder);
    const t = pickVip ? vip[i++] : normal[j++];
    const c = gpuShareOf(t) * Math.min(chargeSec(t), quota.windowSec);
    if (pickVip) v += c;
    else n += c;
    return t;
  };
}
