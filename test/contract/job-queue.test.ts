import { randomUUID } from 'crypto';
import { Job, JobQueue } from '../../src/platform/queue/job-queue.port';
import { BullMqJobQueue } from '../../src/platform/queue/bullmq-job-queue';
import { MemoryJobQueue } from '../../src/platform/queue/memory-job-queue';
import { tempDataDir } from '../support/temp-dir';
import { RedisKeyValueStore } from '../../src/platform/kv/redis-key-value-store';
import { createRedisClient } from '../support/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

type Made = { queue: JobQueue; close(): Promise<void> };
const adapters: [string, () => Made | Promise<Made>][] = [
  [
    'bullmq',
    () => {
      // Unique prefix per run: Redis is shared; every key is removed afterwards.
      const prefix = `contract:jq:${randomUUID()}`;
      const queue = new BullMqJobQueue({ url: REDIS_URL, prefix });
      return {
        queue,
        close: async () => {
          await queue.close();
          const kv = new RedisKeyValueStore(createRedisClient(REDIS_URL));
          await kv.deleteByPrefix(`${prefix}:`);
          await kv.close();
        },
      };
    },
  ],
  [
    'memory',
    () => {
      const queue = new MemoryJobQueue();
      return { queue, close: () => queue.close() };
    },
  ],
  [
    'durable (DATA_DIR journal)',
    async () => {
      const dir = tempDataDir();
      const queue = await MemoryJobQueue.open(`${dir.path}/queue.log`);
      return { queue, close: async () => { await queue.close(); dir.remove(); } };
    },
  ],
];

describe.each(adapters)('JobQueue contract: %s', (_name, make) => {
  let made: Made;
  let jq: JobQueue;
  let n = 0;
  // BullMQ forbids ':' in queue names.
  const fresh = () => `q${++n}-${Date.now()}`;
  const workers: { close(): Promise<void> }[] = [];
  const process = <T>(q: string, h: (j: Job<T>) => Promise<void>, o?: Parameters<JobQueue['process']>[2]) => {
    const w = jq.process<T>(q, h, o as never);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    made = await make();
    jq = made.queue;
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  afterAll(() => made.close());

  it('pings', async () => {
    await expect(jq.ping()).resolves.toBeUndefined();
  });

  it('processes a job', async () => {
    const q = fresh();
    const seen: Job<{ x: number }>[] = [];
    const id = await jq.add(q, 'hello', { x: 1 });
    expect(typeof id).toBe('string');
    process<{ x: number }>(q, async (j) => void seen.push(j));
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ id, queue: q, name: 'hello', data: { x: 1 }, attempt: 1, maxAttempts: 1 }]);
  });

  it('processes waiting jobs first in, first out', async () => {
    const q = fresh();
    const order: number[] = [];
    for (const i of [1, 2, 3]) await jq.add(q, 'n', i);
    process<number>(q, async (j) => void order.push(j.data));
    await waitFor(() => order.length === 3);
    expect(order).toEqual([1, 2, 3]);
  });

  it('retries with exponential backoff, then succeeds without onFailed', async () => {
    const q = fresh();
    const tries: { attempt: number; at: number }[] = [];
    const onFailed = jest.fn();
    process(
      q,
      async (j) => {
        tries.push({ attempt: j.attempt, at: Date.now() });
        if (j.attempt < 3) throw new Error(`boom ${j.attempt}`);
      },
      { onFailed },
    );
    await jq.add(q, 'flaky', {}, { attempts: 3, backoffMs: 60 });
    await waitFor(() => tries.length === 3);
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
    // 60 ms then 120 ms (a little slack for timer granularity).
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(50);
    expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(110);
    expect(onFailed).not.toHaveBeenCalled();
  });

  it('calls onFailed once, after the final attempt', async () => {
    const q = fresh();
    const failed: [Job, Error][] = [];
    let calls = 0;
    process(
      q,
      async () => {
        calls++;
        throw new Error('always');
      },
      { onFailed: (job, err) => void failed.push([job, err]) },
    );
    await jq.add(q, 'doomed', { k: 'v' }, { attempts: 2, backoffMs: 20 });
    await waitFor(() => failed.length === 1);
    expect(calls).toBe(2);
    expect(failed[0][0]).toMatchObject({ name: 'doomed', data: { k: 'v' }, attempt: 2, maxAttempts: 2 });
    expect(failed[0][1].message).toBe('always');
  });

  it('delays jobs', async () => {
    const q = fresh();
    let ranAt = 0;
    const added = Date.now();
    await jq.add(q, 'later', {}, { delayMs: 250 });
    process(q, async () => void (ranAt = Date.now()));
    await waitFor(() => ranAt > 0);
    expect(ranAt - added).toBeGreaterThanOrEqual(240);
  });

  it('dedupes by jobId while unfinished, and accepts the id again once done', async () => {
    const q = fresh();
    const runs: string[] = [];
    expect(await jq.add(q, 'a', 1, { jobId: 'order-7', delayMs: 100 })).toBe('order-7');
    expect(await jq.add(q, 'a', 2, { jobId: 'order-7' })).toBe('order-7');
    // One worker, first in first out: when `after` runs, order-7 has finished.
    await jq.add(q, 'a', 0, { jobId: 'after', delayMs: 150 });
    process<number>(q, async (j) => void runs.push(`${j.id}:${j.data}`));
    await waitFor(() => runs.length === 2);
    expect(runs).toEqual(['order-7:1', 'after:0']);
    await jq.add(q, 'a', 3, { jobId: 'order-7' });
    await waitFor(() => runs.length === 3);
    expect(runs[2]).toBe('order-7:3');
  });

  it('removes waiting and delayed jobs, not unknown ones', async () => {
    const q = fresh();
    const ran: string[] = [];
    await jq.add(q, 'w', {}, { jobId: 'waiting-1' });
    await jq.add(q, 'd', {}, { jobId: 'delayed-1', delayMs: 100 });
    await jq.add(q, 'k', {}, { jobId: 'kept-1', delayMs: 100 });
    expect(await jq.remove(q, 'waiting-1')).toBe(true);
    expect(await jq.remove(q, 'delayed-1')).toBe(true);
    expect(await jq.remove(q, 'delayed-1')).toBe(false);
    expect(await jq.remove(q, 'never-there')).toBe(false);
    process(q, async (j) => void ran.push(j.id));
    await waitFor(() => ran.length === 1);
    await sleep(150);
    expect(ran).toEqual(['kept-1']);
  });

  it('honours concurrency, and worker close waits for running jobs', async () => {
    const q = fresh();
    let running = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 4; i++) await jq.add(q, 'slow', i);
    const w = process(
      q,
      async () => {
        peak = Math.max(peak, ++running);
        await sleep(100);
        running--;
        done++;
      },
      { concurrency: 2 },
    );
    await waitFor(() => done === 4);
    expect(peak).toBe(2);

    await jq.add(q, 'slow', 5);
    await waitFor(() => running === 1);
    await w.close();
    expect(done).toBe(5);
    expect(running).toBe(0);
  });
});
