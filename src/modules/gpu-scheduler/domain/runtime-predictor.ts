import { Task } from './model';
import { overrunRemainingSec } from './overrun';

export interface RuntimePredictorOptions {
  defaultRuntimeSec?: number;
  /** Finished runtimes kept per (model, gpuCount) key; oldest dropped first. */
  historySize?: number;
}

/**
 * Predicts runtime as the median of finished runtimes of similar tasks (same model + gpuCount),
 * falling back to the user's estimate, then to a default. Tracks prediction error.
 */
export class RuntimePredictor {
  private readonly history = new Map<string, KeyHistory>();
  /**
   * Task object -> its key's history, so a task predicted every cycle (the simulator's queue) costs one
   * WeakMap lookup instead of building the key string and two Map lookups. Tasks are immutable values
   * in the scheduler; a fresh object for the same task simply misses this cache.
   */
  private readonly byTask = new WeakMap<Task, KeyHistory | null>();
  private readonly defaultRuntimeSec: number;
  private readonly historySize: number;
  private errCount = 0;
  private absErrSum = 0;
  private absPctErrSum = 0;
  private underCount = 0;

  constructor(opts: RuntimePredictorOptions = {}) {
    this.defaultRuntimeSec = opts.defaultRuntimeSec ?? 3600;
    this.historySize = opts.historySize ?? 101;
  }

  private historyOf(task: Task): KeyHistory | null {
    let h = this.byTask.get(task);
    if (h === undefined) {
      h = null;
      if (task.model !== undefined) {
        const key = `${task.model}|${task.gpuCount}`;
        h = this.history.get(key) ?? { runtimes: [], sorted: undefined };
        this.history.set(key, h);
      }
      this.byTask.set(task, h);
    }
    return h;
  }

  predict(task: Task): number {
    const h = this.historyOf(task);
    if (h && h.runtimes.length > 0) return medianFrom(sortedOf(h), 0);
    if (task.estimatedRuntimeSec !== undefined && task.estimatedRuntimeSec > 0) return task.estimatedRuntimeSec;
    return this.defaultRuntimeSec;
  }

  /**
   * Remaining runtime of a task that has already run `elapsedSec` past its prediction: the median of the
   * similar tasks' runtimes that were longer than `elapsedSec` (a conditional quantile of the history),
   * minus `elapsedSec`; with no such history, overrunRemainingSec.
   */
  predictRemaining(task: Task, elapsedSec: number): number {
    const h = this.historyOf(task);
    if (h) {
      const s = sortedOf(h);
      let lo = 0;
      for (let hi = s.length; lo < hi; ) {
        const mid = (lo + hi) >> 1;
        if (s[mid] > elapsedSec) hi = mid;
        else lo = mid + 1;
      }
      // s[lo..] are the runtimes longer than elapsedSec; their median
      if (lo < s.length) return Math.max(1, medianFrom(s, lo) - elapsedSec);
    }
    return overrunRemainingSec(task, elapsedSec);
  }

  /** Record a finished task; `predictedSec` (what was used at start) feeds the error statistics. */
  observe(task: Task, actualSec: number, predictedSec?: number): void {
    if (predictedSec !== undefined) {
      const err = Math.abs(predictedSec - actualSec);
      this.errCount++;
      this.absErrSum += err;
      this.absPctErrSum += err / Math.max(actualSec, 1);
      if (predictedSec < actualSec) this.underCount++;
    }
    const h = this.historyOf(task);
    if (!h) return;
    h.runtimes.push(actualSec);
    h.sorted = undefined;
    if (h.runtimes.length > this.historySize) h.runtimes.shift();
  }

  errorStats(): { samples: number; meanAbsErrorSec: number; meanAbsPctError: number; underPredictedFraction: number } {
    const n = this.errCount;
    return {
      samples: n,
      meanAbsErrorSec: n ? this.absErrSum / n : 0,
      meanAbsPctError: n ? this.absPctErrSum / n : 0,
      underPredictedFraction: n ? this.underCount / n : 0,
    };
  }
}

/** Finished runtimes of one (model, gpuCount) key, oldest first, and them sorted once asked for. */
interface KeyHistory {
  runtimes: number[];
  /** runtimes sorted, for the medians; dropped on every observe */
  sorted: number[] | undefined;
}

function sortedOf(h: KeyHistory): number[] {
  return (h.sorted ??= [...h.runtimes].sort((a, b) => a - b));
}

/** Median of the sorted s[lo..] (not empty). */
function medianFrom(s: readonly number[], lo: number): number {
  const n = s.length - lo;
  return n % 2 ? s[lo + (n >> 1)] : (s[lo + n / 2 - 1] + s[lo + n / 2]) / 2;
}
