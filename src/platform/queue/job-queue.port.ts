/**
 * Named job queues with delays and retries. Full profile: BullMQ on Redis. Embedded profile: an
 * in-process queue with the same semantics. One contract suite (test/contract/job-queue.test.ts).
 */
export interface JobOptions {
  /** Deduplicates: adding a job whose id exists (waiting, delayed or active) is a no-op. */
  jobId?: string;
  delayMs?: number;
  /** Total tries, first included. Default 1. */
  attempts?: number;
  /** Exponential backoff base between tries. Default 1000 ms. */
  backoffMs?: number;
}

export interface Job<T = unknown> {
  id: string;
  queue: string;
  name: string;
  data: T;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
}

export interface ProcessOptions<T> {
  concurrency?: number;
  /** Called once a job has failed its last try. */
  onFailed?(job: Job<T>, error: Error): Promise<void> | void;
}

export interface QueueWorker {
  /** Stops taking jobs and waits for running ones to finish. */
  close(): Promise<void>;
}

export abstract class JobQueue {
  abstract add<T>(queue: string, name: string, data: T, opts?: JobOptions): Promise<string>;
  /** Removes a waiting or delayed job; false if it was not there (or already running). */
  abstract remove(queue: string, jobId: string): Promise<boolean>;
  abstract process<T>(queue: string, handler: (job: Job<T>) => Promise<void>, opts?: ProcessOptions<T>): QueueWorker;
  abstract ping(): Promise<void>;
}
