import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { logLevel } from 'kafkajs';
import { AppendLog } from '../../src/platform/durable/append-log';
import { DurableKeyValueStore } from '../../src/platform/kv/durable-key-value-store';
import { KeyValueStore } from '../../src/platform/kv/key-value-store.port';
import { RedisKeyValueStore } from '../../src/platform/kv/redis-key-value-store';
import { createRedisClient } from '../support/redis';
import { EventBus, IncomingMessage } from '../../src/platform/messaging/event-bus.port';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';
import { MemoryEventBus } from '../../src/platform/messaging/memory-event-bus';
import { BullMqJobQueue } from '../../src/platform/queue/bullmq-job-queue';
import { JobQueue } from '../../src/platform/queue/job-queue.port';
import { MemoryJobQueue } from '../../src/platform/queue/memory-job-queue';
import { tempDataDir } from '../support/temp-dir';

// Durability, per port: write, close (or abandon without closing, as a crash would), reopen on the
// same data, read the same state back. Run against the embedded profile's durable adapters (a journal
// in a temp DATA_DIR) and, where "reopen" means something, the real servers (a new client).
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => randomUUID().slice(0, 8);

async function waitFor(what: string, ok: () => boolean, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Opens an adapter on the same data each time; `abandon` drops one without closing it. */
interface Reopenable<T> {
  open(): Promise<T & { close(): Promise<void> }>;
  cleanup(): Promise<void>;
}

const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));
function dir(): string {
  const d = tempDataDir();
  dirs.push(d);
  return d.path;
}

const kvAdapters: [string, () => Reopenable<KeyValueStore>][] = [
  ['durable', () => { const d = dir(); return { open: () => DurableKeyValueStore.open(`${d}/kv.log`), cleanup: async () => undefined }; }],
  ['redis', () => ({
    open: async () => new RedisKeyValueStore(createRedisClient(REDIS_URL)),
    cleanup: async () => undefined,
  })],
];

describe.each(kvAdapters)('KeyValueStore survives a reopen: %s', (_name, make) => {
  let p = '';
  let r: Reopenable<KeyValueStore>;
  beforeAll(() => (r = make()));
  beforeEach(() => (p = `durability:${uid()}:`));

  async function write(kv: KeyValueStore): Promise<void> {
    await kv.set(`${p}plain`, 'v1');
    await kv.set(`${p}ttl`, 'soon', { ttlMs: 60_000 });
    await kv.set(`${p}gone`, 'x', { ttlMs: 1 });
    await kv.set(`${p}n`, '41');
    await kv.set(`${p}n`, '42');
    await kv.hSet(`${p}h`, { a: '1', b: 'two', c: 3 });
    await kv.hDel(`${p}h`, ['c']);
    await kv.hSet(`${p}h`, { a: 10 });
    await kv.hSet(`${p}gone-hash`, { a: 1 });
    await kv.hDel(`${p}gone-hash`, ['a']);
    await kv.set(`${p}deleted`, 'x');
    await kv.del([`${p}deleted`]);
    await kv.pExpire(`${p}h`, 120_000);
  }

  async function expectState(kv: KeyValueStore): Promise<void> {
    expect(await kv.get(`${p}plain`)).toBe('v1');
    expect(await kv.get(`${p}ttl`)).toBe('soon');
    const ttl = await kv.pTtl(`${p}ttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000); // the TTL ran on, it did not restart
    expect(await kv.get(`${p}gone`)).toBeNull();
    expect(await kv.get(`${p}n`)).toBe('42');
    expect(await kv.hGetAll(`${p}h`)).toEqual({ a: '10', b: 'two' });
    expect(await kv.pTtl(`${p}h`)).toBeGreaterThan(60_000);
    expect(await kv.pTtl(`${p}gone-hash`)).toBe(-2); // emptied, so gone
    expect(await kv.get(`${p}deleted`)).toBeNull();
  }

  it('after a clean close', async () => {
    const a = await r.open();
    await write(a);
    await a.close();
    const b = await r.open();
    await expectState(b);
    await b.deleteByPrefix(p);
    await b.close();
  });

  it('without a close (what a crash leaves): everything acknowledged is there', async () => {
    const a = await r.open();
    await write(a);
    const b = await r.open(); // a is abandoned mid-life
    await expectState(b);
    await b.deleteByPrefix(p);
    await Promise.all([a.close(), b.close()]);
  });
});

const busAdapters: [string, () => Reopenable<EventBus>][] = [
  ['durable', () => { const d = dir(); return { open: () => MemoryEventBus.open(`${d}/bus.log`, 2), cleanup: async () => undefined }; }],
  ['kafka', () => ({
    open: async () =>
      new KafkaEventBus({ brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], clientId: 'tetrad-durability', defaultPartitions: 2, replicationFactor: 1, logLevel: logLevel.NOTHING }),
    cleanup: async () => undefined,
  })],
];

describe.each(busAdapters)('EventBus survives a reopen: %s', (_name, make) => {
  async function consume(bus: EventBus, groupId: string, topics: string[], until: (got: IncomingMessage[]) => boolean) {
    const got: IncomingMessage[] = [];
    const sub = await bus.subscribe({ groupId, topics, handleBatch: async (b) => void got.push(...b.messages) });
    await waitFor('messages', () => until(got));
    await sleep(300); // room for a wrong duplicate to show up
    await sub.close();
    return got;
  }
  const view = (ms: IncomingMessage[]) => ms.map((m) => `${m.partition}/${m.offset}:${m.key}=${m.value}`).sort();

  it.each(['a clean close', 'no close (a crash)'])('messages, offsets, group offsets and transactional output after %s', async (how) => {
    const r = make();
    const t = `durability.${uid()}`;
    const out = `durability.${uid()}`;
    const group = `g.${uid()}`;
    const a = await r.open();
    await a.ensureTopics([{ name: t, partitions: 2 }, { name: out, partitions: 2 }]);
    await a.publish(t, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `first-${i}`, headers: { n: String(i) } })));
    const before = await consume(a, `all.${uid()}`, [t], (g) => g.length >= 10);
    expect(await consume(a, group, [t], (g) => g.length >= 10)).toHaveLength(10);
    // Transactional: output and the consumed offsets in one step.
    const tx = await a.subscribe({
      groupId: `tx.${group}`,
      topics: [t],
      transactional: true,
      handleBatch: async (b, ctx) => ctx.produce(out, b.messages.map((m) => ({ key: m.key, value: `out-${m.value}` }))),
    });
    const outputs = await consume(a, `r.${uid()}`, [out], (g) => g.length >= 10);
    await tx.close();
    const logId = a.logId;
    if (how === 'a clean close') await a.close();

    const b = await r.open();
    expect(b.logId).toBe(logId);
    // The same messages at the same offsets, headers and all.
    const again = await consume(b, `all.${uid()}`, [t], (g) => g.length >= 10);
    expect(view(again)).toEqual(view(before));
    expect(again.find((m) => m.key === 'k3')!.headers.n).toBe('3');
    expect(view(await consume(b, `r2.${uid()}`, [out], (g) => g.length >= 10))).toEqual(view(outputs));
    // The group resumes from its committed offsets: only what is new.
    await b.publish(t, Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: `second-${i}` })));
    const resumed = await consume(b, group, [t], (g) => g.length >= 4);
    expect(resumed.map((m) => m.value).sort()).toEqual(['second-0', 'second-1', 'second-2', 'second-3']);
    // The transactional group too: its offsets were committed with its output.
    const txAgain: string[] = [];
    const tx2 = await b.subscribe({ groupId: `tx.${group}`, topics: [t], handleBatch: async (bt) => void txAgain.push(...bt.messages.map((m) => m.value)) });
    await waitFor('tx group resumed', () => txAgain.length >= 4);
    await sleep(300);
    await tx2.close();
    expect(txAgain.sort()).toEqual(['second-0', 'second-1', 'second-2', 'second-3']);
    await b.close();
    if (how !== 'a clean close') await a.close();
  });
});

const queueAdapters: [string, () => Reopenable<JobQueue>][] = [
  ['durable', () => { const d = dir(); return { open: () => MemoryJobQueue.open(`${d}/queue.log`), cleanup: async () => undefined }; }],
  ['bullmq', () => {
    const prefix = `durability:jq:${uid()}`;
    return {
      open: async () => new BullMqJobQueue({ url: REDIS_URL, prefix }),
      cleanup: async () => {
        const kv = new RedisKeyValueStore(createRedisClient(REDIS_URL));
        await kv.deleteByPrefix(`${prefix}:`);
        await kv.close();
      },
    };
  }],
];

describe.each(queueAdapters)('JobQueue survives a reopen: %s', (_name, make) => {
  it.each(['a clean close', 'no close (a crash)'])('waiting and delayed jobs run after %s; removed and finished ones do not', async (how) => {
    const r = make();
    const q = `dq${uid()}`;
    const a = await r.open();
    const ran: string[] = [];
    const w = a.process<{ n: string }>(q, async (j) => void ran.push(j.data.n));
    await a.add(q, 'job', { n: 'done-before' }, { jobId: 'j-done-before' });
    await waitFor('first job', () => ran.length === 1);
    await w.close();
    const delayedAt = Date.now();
    await a.add(q, 'job', { n: 'waiting' }, { jobId: 'j-waiting' });
    await a.add(q, 'job', { n: 'delayed' }, { jobId: 'j-delayed', delayMs: 1500 });
    await a.add(q, 'job', { n: 'removed' }, { jobId: 'j-removed', delayMs: 1500 });
    expect(await a.remove(q, 'j-removed')).toBe(true);
    if (how === 'a clean close') await a.close();

    const b = await r.open();
    const after: { n: string; at: number }[] = [];
    const w2 = b.process<{ n: string }>(q, async (j) => void after.push({ n: j.data.n, at: Date.now() }));
    await waitFor('both jobs', () => after.length >= 2, 10_000);
    await sleep(300);
    await w2.close();
    expect(after.map((x) => x.n)).toEqual(['waiting', 'delayed']);
    expect(after[1].at - delayedAt).toBeGreaterThanOrEqual(1400); // the delay held across the restart
    await b.close();
    if (how !== 'a clean close') await a.close();
    await r.cleanup();
  });
});

describe('AppendLog', () => {
  it('cuts off a torn tail (a crash mid-write) and keeps appending after the last whole record', async () => {
    const path = `${dir()}/log`;
    const a = await AppendLog.open(path, { snapshot: () => [] });
    a.log.append({ n: 1 });
    a.log.append({ n: 2 });
    await a.log.durable();
    await a.log.close();
    const whole = statSync(path).size;
    appendFileSync(path, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123, 34])); // a header promising 200 bytes, then 2
    const b = await AppendLog.open(path, { snapshot: () => [] });
    expect(b.records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(statSync(path).size).toBe(whole);
    b.log.append({ n: 3 });
    await b.log.durable();
    await b.log.close();
    // A flipped byte inside a record: that record and everything after it are not trusted.
    const buf = readFileSync(path);
    const whole3 = await AppendLog.open(path, { snapshot: () => [] });
    expect(whole3.records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await whole3.log.close();
    buf[buf.length - 2] ^= 0xff;
    appendFileSync(`${path}.flipped`, buf);
    const c = await AppendLog.open(`${path}.flipped`, { snapshot: () => [] });
    expect(c.records).toEqual([{ n: 1 }, { n: 2 }]);
    await c.log.close();
  });

  it('compacts a journal of overwrites into a snapshot of the live state, which replays to the same state', async () => {
    const d = dir();
    const kv = await DurableKeyValueStore.open(`${d}/kv.log`);
    (kv as unknown as { log: { opts: { compactMinBytes: number } } }).log.opts.compactMinBytes = 64 << 10;
    for (let i = 0; i < 3000; i++) await kv.hSet('board', { [`p${i % 50}`]: i });
    await kv.set('k', 'v', { ttlMs: 60_000 });
    const size = statSync(`${d}/kv.log`).size;
    expect(size).toBeLessThan(64 << 10); // 3,000 journaled writes would be ~200 kB: compaction ran
    await kv.close();
    const again = await DurableKeyValueStore.open(`${d}/kv.log`);
    const board = await again.hGetAll('board');
    expect(Object.keys(board)).toHaveLength(50);
    expect(board.p49).toBe('2999');
    expect(await again.get('k')).toBe('v');
    await again.close();
  });
});
