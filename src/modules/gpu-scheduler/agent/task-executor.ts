import type { DispatchMessage } from '../agent-protocol';

/** How one task run ended, in the terms of the agent protocol's final reports. */
export type TaskOutcome =
  | { kind: 'SUCCEEDED'; exitCode: number }
  | { kind: 'FAILED'; exitCode?: number; reason: string }
  | { kind: 'CANCELLED'; reason: string };

/** One run: the dispatch's fields (an empty or absent command is a simulated run), on these devices. */
export type RunSpec = Pick<DispatchMessage, 'taskId' | 'attempt' | 'command' | 'predictedRuntimeSec' | 'gpuMilli' | 'cpuMilli' | 'memoryMib'> & {
  /** Device indices for CUDA_VISIBLE_DEVICES (already mapped from scheduler slots). */
  deviceIndices: number[];
};

export interface RunningTask {
  /** Settles once, never rejects. */
  readonly done: Promise<TaskOutcome>;
  /**
   * Idempotent; the run then ends CANCELLED (unless it had already ended). `graceMs` overrides the
   * runner's SIGTERM → SIGKILL grace (shutdown has less time than a user's cancel).
   */
  cancel(reason?: string, graceMs?: number): void;
}

/** A run's `done` and the `finish` that settles it: the first call runs `onEnd` and settles, later ones do nothing. */
export function settleOnce(onEnd: (o: TaskOutcome) => void): { done: Promise<TaskOutcome>; finish: (o: TaskOutcome) => void; settled: () => boolean } {
  let settle!: (o: TaskOutcome) => void;
  let settled = false;
  const done = new Promise<TaskOutcome>((resolve) => (settle = resolve));
  const finish = (o: TaskOutcome) => {
    if (settled) return;
    settled = true;
    onEnd(o);
    settle(o);
  };
  return { done, finish, settled: () => settled };
}

/** Starts task runs: a child process (ProcessRunner) or a timer (SimulatedRunner). */
export interface TaskExecutor {
  start(spec: RunSpec): RunningTask;
}
