import { Task } from './model';
import { overrunRemainingSec } from './overrun';

export type PredictionSource = 'history' | 'estimate' | 'default';

export interface RuntimePrediction {
  seconds: number;
  source: PredictionSource;
}

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

  static key(task: Pick<Task, 'model' | 'gpuCount'>): string | undefined {
    return task.model === undefined ? undefined : `${task.model}|${task.gpuCount}`;
  }

  private historyOf(task: Task): KeyHistory | null {
    let h = this.byTask.get(task);
    if (h === undefined) {
      const key = RuntimePredictor.key(task);
      h = null;
      if (key !== undefined) {
        h = this.history.get(key) ?? { runtimes: [], median: undefined, sorted: undefined };
        this.history.set(key, h);
      }
      this.byTask.set(task, h);
    }
    return h;
  }

  predict(task: Task): RuntimePrediction {
    const h = this.historyOf(task);
    if (h && h.runtimes.length > 0) {
      if (h.median === undefined) h.median = median(h.runtimes);
      return { seconds: h.median, source: 'history' };
    }
    if (task.estimatedRuntimeSec !== undefined && task.estimatedRuntimeSec > 0) {
      return { seconds: task.estimatedRuntimeSec, source: 'estimate' };
    }
    return { seconds: this.defaultRuntimeSec, source: 'default' };
  }

  /**
   * Remaining runtime of a task that has already run `elapsedSec` past its prediction: the median of the
   * similar tasks' runtimes that were longer than `elapsedSec` (a conditional quantile of the history),
   * minus `elapsedSec`; with no such history, overrunRemainingSec.
   */
  predictRemaining(task: Task, elapsedSec: number): number {
    const h = this.historyOf(task);
    if (h) {
      if (h.sorted === undefined) h.sorted = [...h.runtimes].sort((a, b) => a - b);
      const s = h.sorted;
      let lo = 0;
      for (let hi = s.length; lo < hi; ) {
        const mid = (lo + hi) >> 1;
        if (s[mid] > elapsedSec) hi = mid;
        else lo = mid + 1;
      }
      // s[lo..] are the runtimes longer than elapsedSec; their median
      const n = s.length - lo;
      if (n > 0) return Math.max(1, (n % 2 ? s[lo + (n >> 1)] : (s[lo + n / 2 - 1] + s[lo + n / 2]) / 2) - elapsedSec);
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
    h.median = undefined;
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

/** Finished runtimes of one (model, gpuCount) key, oldest first, and their median once computed. */
interface KeyHistory {
  runtimes: number[];
  median: number | undefined;
  /** runtimes sorted, for predictRemaining; dropped on every observe */
  sorted: number[] | undefined;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
