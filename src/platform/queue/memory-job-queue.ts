import { AppendLog } from '../durable/append-log';
import { Job, JobOptions, JobQueue, ProcessOptions, QueueWorker } from './job-queue.port';

interface MemJob {
  id: string;
  name: string;
  data: unknown;
  /** Running in a handler: remove() leaves it alone. */
  active: boolean;
  /** Tries started so far. */
  tries: number;
  maxAttempts: number;
  backoffMs: number;
  /** When it may run next (epoch ms): what a restart needs to re-arm a delay. */
  dueAt: number;
  timer?: NodeJS.Timeout;
}

/** One journal record: a job (re)scheduled, removed or finished, or a queue's id counter (compaction; older journals add finished counts). */
interface QueueRecord {
  a?: [queue: string, id: string, name: string, data: unknown, tries: number, maxAttempts: number, backoffMs: number, dueAt: number];
  r?: [queue: string, id: string];
  f?: [queue: string, id: string, outcome: 'completed' | 'failed'];
  n?: [queue: string, seq: number];
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
}

/**
 * Embedded-profile JobQueue with BullMQ's semantics: FIFO, delays, exponential backoff
 * (backoffMs * 2^(try-1)), jobId dedupe while unfinished, per-worker concurrency. Finished jobs
 * are not kept, so an id can be reused once its job is done (the BullMQ adapter matches this).
 */
export class MemoryJobQueue extends JobQueue {
  private readonly queues = new Map<string, MemQueue>();
  private closed = false;
  private journal: AppendLog | null = null;

  /**
   * The durable queue in the file at `path` (DATA_DIR): adds, removals, retries and outcomes go to a
   * journal (AppendLog); add() and remove() resolve once on disk. A restart re-arms delayed jobs at
   * their due time and runs again the jobs that were running (at least once, like BullMQ's stalled
   * jobs).
   */
  static async open(path: string): Promise<MemoryJobQueue> {
    const jq = new MemoryJobQueue();
    const { log, records } = await AppendLog.open(path, { snapshot: () => jq.snapshot() });
    for (const r of records as QueueRecord[]) jq.replay(r);
    jq.journal = log;
    for (const [queue, q] of jq.queues) {
      for (const job of q.jobs.values()) {
        const wait = job.dueAt - Date.now();
        if (wait > 0) jq.delay(queue, job, wait);
        else jq.enqueue(queue, job);
      }
    }
    return jq;
  }

  private replay(r: QueueRecord): void {
    if (r.a) {
      const [queue, id, name, data, tries, maxAttempts, backoffMs, dueAt] = r.a;
      const q = this.q(queue);
      q.jobs.set(id, { id, name, data, active: false, tries, maxAttempts, backoffMs, dueAt });
      if (/^\d+$/.test(id)) q.seq = Math.max(q.seq, Number(id));
    }
    if (r.r) this.q(r.r[0]).jobs.delete(r.r[1]);
    if (r.f) this.q(r.f[0]).jobs.delete(r.f[1]);
    if (r.n) this.q(r.n[0]).seq = r.n[1];
  }

  private snapshot(): QueueRecord[] {
    const out: QueueRecord[] = [];
    for (const [queue, q] of this.queues) {
      out.push({ n: [queue, q.seq] });
      for (const j of q.jobs.values()) out.push(this.scheduled(queue, j));
    }
    return out;
  }

  private scheduled(queue: string, j: MemJob): QueueRecord {
    return { a: [queue, j.id, j.name, j.data, j.tries, j.maxAttempts, j.backoffMs, j.dueAt] };
  }

  private q(name: string): MemQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { jobs: new Map(), waiting: [], workers: [], seq: 0 }));
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
      active: false,
      tries: 0,
      maxAttempts: Math.max(1, opts.attempts ?? 1),
      backoffMs: opts.backoffMs ?? 1000,
      dueAt: Date.now() + Math.max(0, opts.delayMs ?? 0),
    };
    q.jobs.set(id, job);
    this.record(this.scheduled(queue, job));
    if (opts.delayMs && opts.delayMs > 0) this.delay(queue, job, opts.delayMs);
    else this.enqueue(queue, job);
    await this.journal?.durable();
    return id;
  }

  private delay(queue: string, job: MemJob, ms: number): void {
    job.active = false;
    job.dueAt = Date.now() + ms;
    // unref: a pending delayed job must not keep the process alive.
    job.timer = setTimeout(() => {
      job.timer = undefined;
      this.enqueue(queue, job);
    }, ms);
    job.timer.unref();
  }

  private enqueue(queue: string, job: MemJob): void {
    this.q(queue).waiting.push(job);
    this.pump(queue);
  }

  async remove(queue: string, jobId: string): Promise<boolean> {
    const q = this.q(queue);
    const job = q.jobs.get(jobId);
    if (!job || job.active) return false;
    clearTimeout(job.timer);
    q.jobs.delete(jobId);
    const i = q.waiting.indexOf(job);
    if (i >= 0) q.waiting.splice(i, 1);
    this.record({ r: [queue, jobId] });
    await this.journal?.durable();
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
    job.active = true;
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
        this.record({ f: [queue, job.id, 'completed'] });
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        if (job.tries < job.maxAttempts) {
          this.delay(queue, job, job.backoffMs * 2 ** (job.tries - 1));
          this.record(this.scheduled(queue, job));
        } else {
          q.jobs.delete(job.id);
          this.record({ f: [queue, job.id, 'failed'] });
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

  /**
   * Not awaited by the callers that only log progress: a finish or retry lost to a crash runs the job
   * once more (handlers are at-least-once). add() and remove() await the journal's durable() as well.
   */
  private record(r: QueueRecord): void {
    try {
      this.journal?.append(r);
    } catch {
      // journal closed (a job finishing after close) or failed (durable() reports that to add/remove)
    }
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

  async ping(): Promise<void> {}

  /** Drops pending timers and waits for running jobs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queues.values()) {
      for (const j of q.jobs.values()) clearTimeout(j.timer);
      await Promise.all(q.workers.map((w) => { w.closed = true; return Promise.all([...w.running]); }));
    }
    await this.journal?.close();
  }
}
