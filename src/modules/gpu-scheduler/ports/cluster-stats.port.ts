import type { Tier } from '../domain';
import type { TaskStatus } from '../gpu-scheduler.types';

/** The operator's aggregates over tasks and GPUs in this namespace (read only). */
export abstract class ClusterStats {
  /** QUEUED tasks per tier and GPU type, with the oldest queuedAt (epoch ms). */
  abstract queues(): Promise<{ tier: Tier; gpuType: string; count: number; oldestMs: number | null }[]>;
  /** GPU-milliseconds per tier in [fromMs, nowMs]: finished attempts plus SCHEDULED/RUNNING tasks so far. */
  abstract gpuMsInWindow(nowMs: number, fromMs: number): Promise<{ tier: Tier; gpuMs: number }[]>;
  /** Runtime prediction error over every finished task that had a prediction. */
  abstract predictionError(): Promise<{ samples: number; meanAbsErrorSec: number; meanAbsPctError: number; underPredictedFraction: number }>;
  /** Which task holds each live GPU. */
  abstract liveGpus(): Promise<{ nodeId: string; gpuIndex: number; taskId: string }[]>;
  /** The latest state change among the newest `scan` tasks, newest change first. */
  abstract recentChanges(limit: number, scan: number): Promise<{ taskId: string; userId: string; tier: string; status: TaskStatus; gpuCount: number; atMs: number; reason: string | null }[]>;
}
