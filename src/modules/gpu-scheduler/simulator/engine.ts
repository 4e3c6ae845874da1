import {
  AgingOptions,
  Allocation,
  gpuShareOf,
  GpuNode,
  HeadSlipTracker,
  MILLI_PER_GPU,
  MinHeap,
  NodeScorer,
  PolicyName,
  QuotaOptions,
  RunningTask,
  releaseOnNode,
  RuntimePredictor,
  scheduleCycle,
  takeOnNode,
  Task,
  Tier,
  totalGpuMilliOf,
  UsageRecord,
  usedMilliOf,
} from '../domain';
import { SimTask } from './trace';

export interface SimOptions {
  policy: PolicyName;
  scorer?: NodeScorer;
  quota?: QuotaOptions;
  aging?: AgingOptions;
  defaultRuntimeSec?: number;
  /** Called after every cycle that started something (specs check the cluster's invariants). */
  afterCycle?: (nodes: readonly GpuNode[], running: ReadonlyMap<string, RunningTask>) => void;
  /** Skip a cycle when fewer GPUs are free than the smallest queued gang (default true; same decisions). */
  skipHopelessCycles?: boolean;
  /** Called about every 1% of events. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Runtime prediction the scheduler sees, instead of the history-based RuntimePredictor (specs: exact or
   * deliberately wrong predictions). Overdue tasks are then re-predicted by the cycle's default.
   */
  predict?: (t: SimTask) => number;
  /** Called at every start with the true end (for --export). */
  onStart?: (task: SimTask, start: number, end: number, allocations: Allocation[]) => void;
  /** Wall-clock timer for decisions/s (the simulator's own clock; injected so specs stay deterministic). */
  hrtimeMs?: () => number;
}

export interface TierStats {
  count: number;
  meanWait: number;
  p50Wait: number;
  p95Wait: number;
  maxWait: number;
}

export interface SimResult {
  policy: PolicyName;
  tasks: number;
  finished: number;
  unscheduled: number;
  totalGpus: number;
  gpuUtilization: number;
  wait: Record<Tier, TierStats>;
  meanJct: number;
  vipGpuHourShare: number;
  makespanSec: number;
  cycles: number;
  /** Event batches with no cycle run: fewer GPUs free than the smallest queued gang (nothing could start). */
  skippedCycles: number;
  decisions: number;
  backfilled: number;
  cycleTimeMs: number;
  decisionsPerSec: number;
  predictor: ReturnType<RuntimePredictor['errorStats']>;
  /** Head-task slip (start - first reservation as the blocked head), seconds, over tasks that had one. */
  headSlip: { count: number; meanSec: number; p95Sec: number; maxSec: number };
  /** VIP share of the GPU time actually used in each hour since the first arrival (null: no GPU used). */
  vipShareByHour: (number | null)[];
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function distribution(xs: number[]): { count: number; mean: number; p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { count: s.length, mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0, p50: pct(s, 50), p95: pct(s, 95), max: s.length ? s[s.length - 1] : 0 };
}

function tierStats(waits: number[]): TierStats {
  const d = distribution(waits);
  return { count: d.count, meanWait: d.mean, p50Wait: d.p50, p95Wait: d.p95, maxWait: d.max };
}

/**
 * Discrete-event replay in virtual time: events are task arrivals and completions (true runtimes);
 * after each batch of same-time events one scheduleCycle(state, t) runs through the same core as
 * production. The scheduler only sees predicted runtimes (RuntimePredictor).
 */
export function simulate(nodesIn: readonly GpuNode[], tasksIn: readonly SimTask[], opts: SimOptions): SimResult {
  const nodes: GpuNode[] = nodesIn.map((n) => ({ ...n, freeGpuIndices: [...n.freeGpuIndices], gpuUsedMilli: usedMilliOf(n) }));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const totalGpus = nodes.reduce((s, n) => s + n.gpuCount, 0);
  // Submit order with the cycle's own tie-break (id), so the queue stays sorted as arrivals are appended
  // and the cycle's sorts run on already-sorted input (linear for V8's TimSort).
  const arrivals = [...tasksIn].sort((a, b) => a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byId = new Map(arrivals.map((t) => [t.id, t]));
  const predictor = new RuntimePredictor({ defaultRuntimeSec: opts.defaultRuntimeSec ?? 3600 });
  const predicted = new Map<string, number>();
  // The predictor only changes between cycles (observe on completion), so the prediction a task was
  // started with is predictor.predict at its start; recorded then, not on every call.
  const predict = opts.predict ? (t: Task) => opts.predict!(byId.get(t.id)!) : (t: Task) => predictor.predict(t);
  const repredictRemaining = opts.predict ? undefined : (t: Task, elapsed: number) => predictor.predictRemaining(t, elapsed);
  const slipTracker = new HeadSlipTracker();
  const slips: number[] = [];
  // GPU-seconds actually used per tier and hour since the first arrival
  const t0Hour = arrivals.length ? arrivals[0].submittedAt : 0;
  const hourly: Record<Tier, number[]> = { vip: [], normal: [] };
  const addHourly = (tier: Tier, share: number, from: number, to: number) => {
    for (let h = Math.floor((from - t0Hour) / 3600); t0Hour + h * 3600 < to; h++) {
      const o = Math.min(to, t0Hour + (h + 1) * 3600) - Math.max(from, t0Hour + h * 3600);
      if (o > 0) hourly[tier][h] = (hourly[tier][h] ?? 0) + o * share;
    }
  };
  const windowSec = opts.quota?.windowSec ?? 3600;
  const hrtime = opts.hrtimeMs ?? (() => 0);

  let queue: Task[] = [];
  const running = new Map<string, RunningTask>();
  const history: UsageRecord[] = [];
  const completions = new MinHeap<{ at: number; id: string }>((x, y) => x.at < y.at);
  const waits: Record<Tier, number[]> = { vip: [], normal: [] };
  const gpuSec: Record<Tier, number> = { vip: 0, normal: 0 };
  let jctSum = 0;
  let finished = 0;
  let lastEnd = arrivals.length ? arrivals[0].submittedAt : 0;
  let cycles = 0;
  let decisions = 0;
  let backfilled = 0;
  let cycleMs = 0;
  let ai = 0;
  // Free GPU milli and queued tasks per GPU milli asked: when less milli is free than the smallest queued
  // request, no placement can succeed, so the cycle would return no decision; it is skipped (counted apart).
  let freeMilli = nodes.reduce((s, n) => s + n.gpuUsedMilli!.reduce((x, u) => x + MILLI_PER_GPU - u, 0), 0);
  const queuedBySize = new Map<number, number>();
  const minQueuedGpus = () => {
    let m = Infinity;
    for (const [g, c] of queuedBySize) if (c > 0 && g < m) m = g;
    return m;
  };
  let skippedCycles = 0;
  const totalEvents = arrivals.length * 2;
  let nextProgress = 0;

  while (ai < arrivals.length || completions.size > 0) {
    const tArr = ai < arrivals.length ? arrivals[ai].submittedAt : Infinity;
    const tDone = completions.peek()?.at ?? Infinity;
    const t = Math.min(tArr, tDone);
    while (completions.size && completions.peek()!.at === t) {
      const { id } = completions.pop()!;
      const r = running.get(id)!;
      running.delete(id);
      for (const a of r.allocations) {
        releaseOnNode(nodeById.get(a.nodeId)!, a); // throws on a double release
        freeMilli += a.gpuIndices.length * (a.gpuMilli ?? MILLI_PER_GPU);
      }
      const st = byId.get(id)!;
      history.push({ tier: st.tier, gpuCount: gpuShareOf(st), start: r.startedAt, end: t });
      addHourly(st.tier, gpuShareOf(st), r.startedAt, t);
      predictor.observe(st, t - r.startedAt, predicted.get(id));
      jctSum += t - st.submittedAt;
      finished++;
      lastEnd = Math.max(lastEnd, t);
    }
    while (ai < arrivals.length && arrivals[ai].submittedAt === t) {
      const { runtimeSec: _hidden, ...task } = arrivals[ai++];
      queue.push(task);
      const size = totalGpuMilliOf(task);
      queuedBySize.set(size, (queuedBySize.get(size) ?? 0) + 1);
    }
    // Records are appended in end order: drop those that ended before the quota window (they count
    // for nothing in it), so a cycle reads only the window's records.
    let stale = 0;
    while (stale < history.length && history[stale].end <= t - windowSec) stale++;
    if (stale > 0) history.splice(0, stale);

    if (queue.length && opts.skipHopelessCycles !== false && freeMilli < minQueuedGpus()) skippedCycles++;
    else if (queue.length) {
      const t0 = hrtime();
      const res = scheduleCycle({ nodes, queue, running: [...running.values()], history }, t, {
        policy: opts.policy,
        predictRuntime: predict,
        scorer: opts.scorer,
        quota: opts.quota,
        aging: opts.aging,
        repredictRemaining,
      });
      slipTracker.observe(res.reservation);
      cycleMs += hrtime() - t0;
      cycles++;
      if (res.decisions.length) {
        const startedIds = new Set<string>();
        for (const d of res.decisions) {
          const st = byId.get(d.taskId)!;
          for (const a of d.allocations) {
            takeOnNode(nodeById.get(a.nodeId)!, a); // throws on over-allocation
            freeMilli -= a.gpuIndices.length * (a.gpuMilli ?? MILLI_PER_GPU);
          }
          const size = totalGpuMilliOf(st);
          queuedBySize.set(size, queuedBySize.get(size)! - 1);
          predicted.set(st.id, predict(st));
          running.set(st.id, { task: st, startedAt: t, allocations: d.allocations, predictedEndAt: d.predictedEndAt });
          completions.push({ at: t + st.runtimeSec, id: st.id });
          const slip = slipTracker.started(st.id, t);
          if (slip !== undefined) slips.push(slip);
          opts.onStart?.(st, t, t + st.runtimeSec, d.allocations);
          waits[st.tier].push(t - st.submittedAt);
          gpuSec[st.tier] += gpuShareOf(st) * st.runtimeSec;
          startedIds.add(st.id);
          decisions++;
          if (d.backfilled) backfilled++;
        }
        queue = queue.filter((q) => !startedIds.has(q.id));
        opts.afterCycle?.(nodes, running);
      }
    }
    const done = ai + finished;
    if (opts.onProgress && done >= nextProgress) {
      opts.onProgress(done, totalEvents);
      nextProgress = done + Math.max(1, Math.floor(totalEvents / 100));
    }
  }
  opts.onProgress?.(totalEvents, totalEvents);

  const makespan = Math.max(0, lastEnd - t0Hour);
  const busy = gpuSec.vip + gpuSec.normal;
  const slip = distribution(slips);
  return {
    policy: opts.policy,
    tasks: arrivals.length,
    finished,
    unscheduled: queue.length,
    totalGpus,
    gpuUtilization: makespan > 0 && totalGpus > 0 ? busy / (totalGpus * makespan) : 0,
    wait: { vip: tierStats(waits.vip), normal: tierStats(waits.normal) },
    meanJct: finished ? jctSum / finished : 0,
    vipGpuHourShare: busy ? gpuSec.vip / busy : 0,
    makespanSec: makespan,
    cycles,
    skippedCycles,
    decisions,
    backfilled,
    cycleTimeMs: cycleMs,
    decisionsPerSec: cycleMs > 0 ? decisions / (cycleMs / 1000) : 0,
    predictor: predictor.errorStats(),
    headSlip: { count: slip.count, meanSec: slip.mean, p95Sec: slip.p95, maxSec: slip.max },
    vipShareByHour: Array.from({ length: Math.max(hourly.vip.length, hourly.normal.length) }, (_, h) => {
      const v = hourly.vip[h] ?? 0;
      const n = hourly.normal[h] ?? 0;
      return v + n > 0 ? v / (v + n) : null;
    }),
  };
}
