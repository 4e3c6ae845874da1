import { RunningTask, RunSpec, settleOnce, TaskExecutor } from './task-executor';

/** setTimeout's ceiling (~24.8 days); longer simulated runs chain timers. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A run that only takes time: predictedRuntimeSec divided by the time scale (tests and demos use
 * e.g. 100 to turn minutes into seconds). Used by the built-in simulated agents and, on a real
 * agent, for tasks without a command.
 */
export class SimulatedRunner implements TaskExecutor {
  constructor(private readonly timeScale: number) {
    if (!(timeScale > 0)) throw new Error('time scale must be > 0');
  }

  durationMs(predictedRuntimeSec: number): number {
    return Math.max(0, (predictedRuntimeSec * 1000) / this.timeScale);
  }

  start(spec: RunSpec): RunningTask {
    let remaining = this.durationMs(spec.predictedRuntimeSec);
    let timer: NodeJS.Timeout | undefined;
    const { done, finish } = settleOnce(() => clearTimeout(timer));
    const arm = () => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      timer = setTimeout(() => (remaining > 0 ? arm() : finish({ kind: 'SUCCEEDED', exitCode: 0 })), step);
    };
    arm();
    return { done, cancel: (reason = 'cancelled') => finish({ kind: 'CANCELLED', reason }) };
  }
}
