/** How one task run ended, in the terms of the agent protocol's final reports. */
export type TaskOutcome =
  | { kind: 'SUCCEEDED'; exitCode: number }
  | { kind: 'FAILED'; exitCode?: number; reason: string }
  | { kind: 'CANCELLED'; reason: string };

export interface RunSpec {
  taskId: string;
  attempt: number;
  /** Empty or absent: a simulated run. */
  command?: string;
  /** Device indices for CUDA_VISIBLE_DEVICES (already mapped from scheduler slots). */
  deviceIndices: number[];
  predictedRuntimeSec: number;
  /** Share of each device in milli (1000 = whole GPUs), from the dispatch. */
  gpuMilli?: number;
  /** CPU (milli-cores) and memory (MiB) the task was granted on this node, when it asked for them. */
  cpuMilli?: number;
  memoryMib?: number;
}

export interface RunningTask {
  /** Settles once, never rejects. */
  readonly done: Promise<TaskOutcome>;
  /**
   * Idempotent; the run then ends CANCELLED (unless it had already ended). `graceMs` overrides the
   * runner's SIGTERM → SIGKILL grace (shutdown has less time than a user's cancel).
   */
  cancel(reason?: string, graceMs?: number): void;
}

/** Starts task runs: a child process (ProcessRunner) or a timer (SimulatedRunner). */
export interface TaskExecutor {
  start(spec: RunSpec): RunningTask;
}
