import { overrunRemainingSec } from './overrun';
import { Allocation, Decision, GpuNode, RunningTask, Task, UsageRecord } from './model';
import { ClusterView, NodeScorer, placeGang, PlacementFailureMemo, worstFit } from './placement';
import {
  AgingOptions,
  DEFAULT_AGING,
  DEFAULT_QUOTA,
  fifoOrder,
  fullOrderStream,
  QuotaOptions,
  strictPriorityOrder,
  windowUsage,
} from './selection';

export type PolicyName = 'fifo' | 'strict-priority' | 'full';

export interface SchedulerState {
  nodes: readonly GpuNode[];
  queue: readonly Task[];
  running: readonly RunningTask[];
  /** Finished usage, at least the last quota window of it (older records are ignored). */
  history?: readonly UsageRecord[];
}

export interface CycleOptions {
  policy: PolicyName;
  /** Predicted runtime in seconds (e.g. RuntimePredictor.predict(t)). */
  predictRuntime: (t: Task) => number;
  scorer?: NodeScorer;
  quota?: QuotaOptions;
  aging?: AgingOptions;
  /**
   * Re-prediction of a running task that is past its predicted end: seconds it is now expected to keep
   * running, given it has run `elapsedSec` (e.g. RuntimePredictor.predictRemaining). Default
   * overrunRemainingSec. Without it an overdue task counts as ending "now" forever, which anchors the
   * head's reservation on its GPUs while everything freed elsewhere goes to backfill (issue 12).
   */
  repredictRemaining?: (t: Task, elapsedSec: number) => number;
}

/**
 * Running tasks as the cycle plans with them: a task past its predicted end gets a new predicted end
 * (now + re-predicted remaining time), recomputed every cycle from the time it has run.
 */
export function withRepredictedEnds(running: readonly RunningTask[], now: number, remaining: (t: Task, elapsedSec: number) => number = overrunRemainingSec): readonly RunningTask[] {
  if (!running.some((r) => r.predictedEndAt <= now)) return running;
  return running.map((r) =>
    r.predictedEndAt > now ? r : { task: r.task, startedAt: r.startedAt, allocations: r.allocations, predictedEndAt: now + Math.max(1, remaining(r.task, now - r.startedAt)) },
  );
}

export interface Reservation {
  taskId: string;
  /** Earliest time the head can start given predicted ends of running tasks; Infinity if never. */
  at: number;
  allocations: Allocation[];
}

export interface CycleResult {
  decisions: Decision[];
  /** Reservation held for the blocked head, if any. */
  reservation?: Reservation;
}

/**
 * One scheduling cycle: a pure function of (state, now). Returns start decisions; never mutates state.
 * - fifo: submit order, stops at the first task that cannot start (no skipping).
 * - strict-priority: VIP before normal, FIFO inside a tier, stops at the first blocked task.
 * - full: starved-first + quota interleave (see fullOrderStream), scorer placement, gangs, EASY backfill.
 */
export function scheduleCycle(state: SchedulerState, now: number, opts: CycleOptions): CycleResult {
  const scorer = opts.scorer ?? worstFit;
  // only the full policy plans with predicted ends (quota window, reservation)
  const running = opts.policy === 'full' ? withRepredictedEnds(state.running, now, opts.repredictRemaining) : state.running;
  const view = new ClusterView(state.nodes);
  const decisions: Decision[] = [];
  // `order` is materialised lazily through at(i): the full policy's order is a stream (fullOrderStream)
  // and the scans below stop when no GPU is left, so the tail of a long queue is never ordered.
  // preds[i]: order[i]'s predicted runtime, once asked (the stream's quota charge asks for it first).
  let order: Task[] = [];
  const preds: (number | undefined)[] = [];
  let charged: number | undefined;
  let pull: (() => Task | undefined) | undefined;
  if (opts.policy === 'fifo') order = fifoOrder(state.queue);
  else if (opts.policy === 'strict-priority') order = strictPriorityOrder(state.queue);
  else {
    const quota = opts.quota ?? DEFAULT_QUOTA;
    // Running tasks are charged what they are predicted to hold from now on too: counting only used
    // time, long tasks started now weigh nothing, and a tier's share drifts under overload (issue 12).
    const usage = windowUsage(state.history ?? [], running, now, quota.windowSec, true);
    pull = fullOrderStream(state.queue, now, usage, quota, opts.aging ?? DEFAULT_AGING, (t) => (charged = Math.max(1, opts.predictRuntime(t))));
  }
  const at = (i: number): Task | undefined => {
    while (pull && order.length <= i) {
      charged = undefined;
      const t = pull();
      if (t === undefined) pull = undefined;
      else {
        order.push(t);
        preds.push(charged);
      }
    }
    return order[i];
  };
  const predict = (i: number): number => (preds[i] ??= Math.max(1, opts.predictRuntime(order[i])));
  // CPU-only tasks can still start when no GPU milli is left; otherwise no free milli ends a scan.
  const cpuOnlyQueued = state.queue.some((t) => t.gpuCount === 0);
  const more = (v: ClusterView) => cpuOnlyQueued || v.totalFreeMilliAll() > 0;

  let k = 0;
  for (; at(k) !== undefined; k++) {
    const t = order[k];
    const allocs = placeGang(t, view, scorer);
    if (!allocs) break;
    view.take(allocs);
    decisions.push({ taskId: t.id, allocations: allocs, backfilled: false, predictedEndAt: now + predict(k) });
  }
  const head = at(k);
  if (head === undefined) return { decisions };
  if (opts.policy !== 'full') return { decisions };

  // EASY backfill (full policy only): one reservation, for the head.
  const started: RunningTask[] = decisions.map((d, i) => ({
    task: order[i],
    startedAt: now,
    allocations: d.allocations,
    predictedEndAt: d.predictedEndAt,
  }));
  const reservation = computeReservation(head, view.clone(), [...running, ...started], now, scorer);
  if (reservation.at === Infinity) {
    // The head can never fit on the current ACTIVE nodes: it cannot be delayed; schedule the rest greedily.
    const failed = new PlacementFailureMemo(view);
    for (let i = k + 1; more(view); i++) {
      const t = at(i);
      if (t === undefined) break;
      if (failed.knownToFail(t)) continue;
      const allocs = placeGang(t, view, scorer);
      if (!allocs) {
        failed.recordFailure(t);
        continue;
      }
      view.take(allocs);
      decisions.push({ taskId: t.id, allocations: allocs, backfilled: true, predictedEndAt: now + predict(i) });
    }
    return { decisions, reservation };
  }
  // A task may use resources the head will need only if it is predicted to end before the head starts.
  // When overdue tasks were re-predicted, the head may start as soon as they really end, which can be
  // before their re-predicted end: the window is the earlier of the two reservations (the one planned
  // with re-predicted ends and the one with overdue tasks ending now), so a prediction error delays the
  // head by no more than itself.
  // The second reservation is computed only when a candidate could end by reservation.at (the window can
  // only matter then; with re-predicted overdue ends that is rare), and only as far as reservation.at.
  // It plans on the cluster as it was before any backfill: `view` itself until the first backfill takes
  // from it, a copy taken just before that otherwise.
  let windowAt: number | undefined = running === state.running ? reservation.at : undefined;
  let atHead: ClusterView | undefined;
  const window = (): number =>
    (windowAt ??= Math.min(reservation.at, computeReservation(head, (atHead ?? view).clone(), [...state.running, ...started], now, scorer, reservation.at).at));
  // GPUs outside the reservation: usable by any backfilled task, however long.
  const spare = view.clone();
  for (const a of reservation.allocations) spare.withhold(a);
  // Both views only shrink from here on, so a failed placement of a class is remembered (same outcome,
  // no node scan), and once `view` is empty (spare is a subset) no later task can start: stop scanning.
  const failedView = new PlacementFailureMemo(view);
  const failedSpare = new PlacementFailureMemo(spare);
  for (let i = k + 1; more(view); i++) {
    const t = at(i);
    if (t === undefined) break;
    const end = now + predict(i);
    // Ends before the reservation: may use any free GPU; prefer spare ones so later long tasks still fit.
    const inView = end <= reservation.at && end <= window();
    const memo = inView ? failedView : failedSpare;
    if (memo.knownToFail(t)) continue;
    const allocs: Allocation[] | undefined = placeGang(t, inView ? view : spare, scorer);
    if (!allocs) {
      memo.recordFailure(t);
      continue;
    }
    if (windowAt === undefined && atHead === undefined) atHead = view.clone();
    view.take(allocs);
    // keep `spare` a subset of `view`
    for (const a of allocs) spare.shrinkTo(view, a.nodeId);
    decisions.push({ taskId: t.id, allocations: allocs, backfilled: true, predictedEndAt: end });
  }
  return { decisions, reservation };
}

/**
 * Earliest predicted start of `head`: release running tasks' GPUs in predicted-end order on `sim` (a
 * copy of the cycle's view: they are released into it) until the head fits (at = Infinity: never);
 * stops past `until`. Released GPUs are put first so the reservation prefers GPUs that are busy now and
 * leaves currently free GPUs to backfill.
 */
export function computeReservation(head: Task, sim: ClusterView, running: readonly RunningTask[], now: number, scorer: NodeScorer = worstFit, until = Infinity): Reservation {
  // Running tasks in (predictedEndAt, input position) order -- exactly a stable sort's order -- taken
  // lazily from a heap: the head usually fits after a few releases, so most of the sort is never needed.
  const byEnd = endOrder(running);
  while (byEnd.size > 0) {
    const at = Math.max(now, running[byEnd.peek()!].predictedEndAt);
    if (at > until) break;
    // release every task ending at the same instant together
    while (byEnd.size > 0 && Math.max(now, running[byEnd.peek()!].predictedEndAt) === at) sim.release(running[byEnd.pop()!].allocations, true);
    const allocs = placeGang(head, sim, scorer);
    if (allocs) return { taskId: head.id, at, allocations: allocs };
  }
  return { taskId: head.id, at: Infinity, allocations: [] };
}

/**
 * Positions of `running` as a heap that pops in (predictedEndAt, position) order: the order a stable sort
 * by predictedEndAt would give, in O(n) to build plus O(log n) per pop.
 */
export function endOrder(running: readonly RunningTask[]): MinHeap<number> {
  const less = (a: number, b: number) => {
    const ea = running[a].predictedEndAt;
    const eb = running[b].predictedEndAt;
    return ea < eb || (ea === eb && a < b);
  };
  return new MinHeap(less, running.map((_, i) => i));
}

/** Binary min-heap under `less` (the reservation's running tasks here, the simulator's completions). */
export class MinHeap<T> {
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly heap: T[] = [],
  ) {
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.heap.length;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  push(x: T): void {
    const h = this.heap;
    h.push(x);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
