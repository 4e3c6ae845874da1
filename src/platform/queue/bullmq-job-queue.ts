import { Job as BullJob, Queue, RedisOptions, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { Job, JobOptions, JobQueue, ProcessOptions, QueueWorker } from './job-queue.port';
import { withTimeout } from '../with-timeout';

export interface BullMqJobQueueOptions {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  url: string;
  /** Redis key prefix for every queue, so environments and test runs do not collide. */
  prefix: string;
  /**
   * Redis Cluster seed nodes (host:port): set, each queue gets a cluster connection and the
   * hash-tag prefix `{prefix:queue}` BullMQ documents for clusters (its scripts touch many keys of
   * one queue; one tag per queue keeps them in one slot and spreads the queues over the primaries).
   */
  clusterNodes?: string[];
}

export function clusterSeeds(nodes: string[]): { host: string; port: number }[] {
  return nodes.map((n) => {
    const i = n.lastIndexOf(':');
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
}

export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

const toJob = <T>(queue: string, j: BullJob): Job<T> => ({
  id: j.id!,
  queue,
  name: j.name,
  data: j.data as T,
  // attemptsMade counts finished (failed) tries, so the running one is the next.
  attempt: j.attemptsMade + 1,
  maxAttempts: j.opts.attempts ?? 1,
});

/**
 * Full-profile JobQueue on BullMQ. Note BullMQ's own id rules: a custom jobId may not be an
 * integer string nor contain ':'.
 */
export class BullMqJobQueue extends JobQueue {
  private readonly connection: RedisOptions;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Set<Worker>();
  /** Cluster connections we made: BullMQ treats a passed-in client as shared and leaves it open. */
  private readonly clusters = new Set<Cluster>();

  constructor(private readonly opts: BullMqJobQueueOptions) {
    super();
    this.connection = redisOptionsFromUrl(opts.url);
  }

  private prefixOf(queue: string): string {
    return this.opts.clusterNodes ? `{${this.opts.prefix}:${queue}}` : this.opts.prefix;
  }

  /** A fresh connection per Queue/Worker, as BullMQ does itself from plain options. */
  private connectionFor(blocking: boolean): RedisOptions | Cluster {
    const redisOptions = blocking ? { maxRetriesPerRequest: null } : {};
    if (!this.opts.clusterNodes) return { ...this.connection, ...redisOptions };
    const c = new Cluster(clusterSeeds(this.opts.clusterNodes), { redisOptions });
    c.on('error', () => undefined); // surfaced through ping()
    this.clusters.add(c);
    return c;
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connectionFor(false), prefix: this.prefixOf(name) });
      q.on('error', () => undefined); // surfaced through ping(); avoid unhandled 'error' events
      this.queues.set(name, q);
    }
    return q;
  }

  async add<T>(queue: string, name: string, data: T, opts: JobOptions = {}): Promise<string> {
    const q = this.queue(queue);
    if (opts.jobId) {
      // BullMQ also dedupes against finished jobs it keeps; the port dedupes only unfinished ones.
      const old = await q.getJob(opts.jobId);
      if (old && ((await old.isCompleted()) || (await old.isFailed()))) await old.remove().catch(() => undefined);
    }
    const job = await q.add(name, data, {
      jobId: opts.jobId,
      delay: opts.delayMs,
      attempts: opts.attempts ?? 1,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 },
      // A bounded history of finished jobs (by default BullMQ keeps every one in Redis).
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    });
    return job.id!;
  }

  async remove(queue: string, jobId: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (!['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'].includes(state)) return false;
    // A worker may lock it between getState and remove: then it is running, so "not removed".
    return job.remove().then(() => true, () => false);
  }

  process<T>(queue: string, handler: (job: Job<T>) => Promise<void>, opts: ProcessOptions<T> = {}): QueueWorker {
    const worker = new Worker(
      queue,
      async (j: BullJob) => {
        const job = toJob<T>(queue, j);
        try {
          await handler(job);
        } catch (e) {
          // Decided here rather than from the 'failed' event, which also fires for retried tries.
          if (job.attempt >= job.maxAttempts && opts.onFailed) {
            const error = e instanceof Error ? e : new Error(String(e));
            await Promise.resolve(opts.onFailed(job, error)).catch(() => undefined);
          }
          throw e;
        }
      },
      {
        // Workers block on Redis; BullMQ requires null so blocking calls are never cut short.
        connection: this.connectionFor(true),
        prefix: this.prefixOf(queue),
        concurrency: Math.max(1, opts.concurrency ?? 1),
      },
    );
    worker.on('error', () => undefined);
    this.workers.add(worker);
    return {
      close: async () => {
        this.workers.delete(worker);
        await worker.close();
      },
    };
  }

  /** Races a timer: the queue client queues commands while Redis is down instead of failing. */
  async ping(): Promise<void> {
    const ping = this.queue('health').client.then((c) => (c as unknown as { ping(): Promise<string> }).ping());
    await withTimeout(ping, 1000, 'Redis did not answer PING within 1s');
  }

  /** Workers first (they wait for running jobs), then the queue connections. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close()));
    this.workers.clear();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    await Promise.all([...this.clusters].map((c) => c.quit().catch(() => c.disconnect())));
    this.clusters.clear();
  }
}
