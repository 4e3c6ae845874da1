import { Job, JobOptions, JobQueue, ProcessOptions, QueueCounts, QueueWorker } from './job-queue.port';

type State = 'waiting' | 'delayed' | 'active';

interface MemJob {
  id: string;
  name: string;
  data: unknown;
  state: State;
  /** Tries started so far. */
  tries: number;
  maxAttempts: number;
  backoffMs: number;
  timer?: NodeJS.Timeout;
}

interface MemWorker {
  handler(job: Job<unknown>): Promise<void>;
  opts: ProcessOptions<unknown>;
  concurrency: number;
  running: Set<Promise<void>>;
  closed: boolean;
}

interface MemQueue {
  jobs: Map<string, MemJob>; // waiting, delayed and active only: ids dedupe while here
  waiting: MemJob[];
  workers: MemWorker[];
  seq: number;
  completed: number;
  failed: number;
}

/**
 * Embedded-profile JobQueue with BullMQ's semantics: FIFO, delays, exponential backoff
 * (backoffMs * 2^(try-1)), jobId dedupe while unfinished, per-worker concurrency. Finished jobs
 * are only counted, not kept, so an id can be reused once its job is done (the BullMQ adapter
 * matches this).
 */
export class MemoryJobQueue extends JobQueue {
  private readonly queues = new Map<string, MemQueue>();
  private closed = false;

  private q(name: string): MemQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { jobs: new Map(), waiting: [], workers: [], seq: 0, completed: 0, failed: 0 }));
    return q;
  }

  async add<T>(queue: string, name: string, data: T, opts: JobOptions = {}): Promise<string> {
    if (this.closed) throw new Error('MemoryJobQueue is closed');
    const q = this.q(queue);
    const id = opts.jobId ?? String(++q.seq);
    if (q.jobs.has(id)) return id;
    const job: MemJob = {
      id,
      name,
      data,
      state: 'waiting',
      tries: 0,
      maxAttempts: Math.max(1, opts.attempts ?? 1),
      backoffMs: opts.backoffMs ?? 1000,
    };
    q.jobs.set(id, job);
    if (opts.delayMs && opts.delayMs > 0) this.delay(queue, job, opts.delayMs);
    else this.enqueue(queue, job);
    return id;
  }

  private delay(queue: string, job: MemJob, ms: number): void {
    job.state = 'delayed';
    // unref: a pending delayed job must not keep the process alive.
    job.timer = setTimeout(() => {
      job.timer = undefined;
      this.enqueue(queue, job);
    }, ms);
    job.timer.unref();
  }

  private enqueue(queue: string, job: MemJob): void {
    job.state = 'waiting';
    this.q(queue).waiting.push(job);
    this.pump(queue);
  }

  async remove(queue: string, jobId: string): Promise<boolean> {
    const q = this.q(queue);
    const job = q.jobs.get(jobId);
    if (!job || job.state === 'active') return false;
    clearTimeout(job.timer);
    q.jobs.delete(jobId);
    const i = q.waiting.indexOf(job);
    if (i >= 0) q.waiting.splice(i, 1);
    return true;
  }

  /** Hands waiting jobs to workers with free slots, spreading them across workers. */
  private pump(queue: string): void {
    const q = this.q(queue);
    let progressed = true;
    while (q.waiting.length && progressed) {
      progressed = false;
      for (const w of q.workers) {
        if (!q.waiting.length) break;
        if (w.closed || w.running.size >= w.concurrency) continue;
        this.run(queue, w, q.waiting.shift()!);
        progressed = true;
      }
    }
  }

  private run(queue: string, w: MemWorker, job: MemJob): void {
    const q = this.q(queue);
    job.state = 'active';
    job.tries++;
    const view: Job<unknown> = {
      id: job.id, queue, name: job.name, data: job.data, attempt: job.tries, maxAttempts: job.maxAttempts,
    };
    const p = (async () => {
      try {
        // A microtask hop so add() returns before the handler starts, as with a real broker.
        await Promise.resolve();
        await w.handler(view);
        q.jobs.delete(job.id);
        q.completed++;
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        if (job.tries < job.maxAttempts) {
          this.delay(queue, job, job.backoffMs * 2 ** (job.tries - 1));
        } else {
          q.jobs.delete(job.id);
          q.failed++;
          // A failing failure hook must not wedge the worker.
          await Promise.resolve(w.opts.onFailed?.(view, error)).catch(() => undefined);
        }
      }
    })();
    w.running.add(p);
    void p.finally(() => {
      w.running.delete(p);
      this.pump(queue);
    });
  }

  process<T>(queue: string, handler: (job: Job<T>) => Promise<void>, opts: ProcessOptions<T> = {}): QueueWorker {
    const w: MemWorker = {
      handler: handler as MemWorker['handler'],
      opts: opts as ProcessOptions<unknown>,
      concurrency: Math.max(1, opts.concurrency ?? 1),
      running: new Set(),
      closed: false,
    };
    const q = this.q(queue);
    q.workers.push(w);
    queueMicrotask(() => this.pump(queue));
    return {
      close: async () => {
        w.closed = true;
        q.workers = q.workers.filter((x) => x !== w);
        while (w.running.size) await Promise.all([...w.running]);
      },
    };
  }

  async counts(queue: string): Promise<QueueCounts> {
    const q = this.q(queue);
    const c: QueueCounts = { waiting: 0, delayed: 0, active: 0, failed: q.failed, completed: q.completed };
    for (const j of q.jobs.values()) c[j.state]++;
    return c;
  }

  async ping(): Promise<void> {}

  /** Drops pending timers and waits for running jobs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queues.values()) {
      for (const j of q.jobs.values()) clearTimeout(j.timer);
      await Promise.all(q.workers.map((w) => { w.closed = true; return Promise.all([...w.running]); }));
    }
  }
}
