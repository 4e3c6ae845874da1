import { Task } from './model';

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
  private readonly history = new Map<string, number[]>();
  private readonly medianCache = new Map<string, number>();
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

  predict(task: Task): RuntimePrediction {
    const key = RuntimePredictor.key(task);
    const h = key === undefined ? undefined : this.history.get(key);
    if (h && h.length > 0) {
      let m = this.medianCache.get(key!);
      if (m === undefined) this.medianCache.set(key!, (m = median(h)));
      return { seconds: m, source: 'history' };
    }
    if (task.estimatedRuntimeSec !== undefined && task.estimatedRuntimeSec > 0) {
      return { seconds: task.estimatedRuntimeSec, source: 'estimate' };
    }
    return { seconds: this.defaultRuntimeSec, source: 'default' };
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
    const key = RuntimePredictor.key(task);
    if (key === undefined) return;
    let h = this.history.get(key);
    if (!h) this.history.set(key, (h = []));
    h.push(actualSec);
    this.medianCache.delete(key);
    if (h.length > this.historySize) h.shift();
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

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
