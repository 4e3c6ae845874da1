import Redis from 'ioredis';
import { randomUUID } from 'crypto';
import { AtomicScript, KeyValueStore } from '../../src/platform/kv/key-value-store.port';
import { MemoryKeyValueStore } from '../../src/platform/kv/memory-key-value-store';
import { DurableKeyValueStore } from '../../src/platform/kv/durable-key-value-store';
import { tempDataDir } from '../support/temp-dir';
import { RedisKeyValueStore } from '../../src/platform/kv/redis-key-value-store';
import { createRedisClient } from '../support/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes qty from a stock counter only if enough is left: the reservation pattern scripts exist for. */
const takeStock: AtomicScript<{ ok: boolean; left: number }> = {
  name: 'contractTakeStock',
  lua: `
    local left = tonumber(redis.call('GET', KEYS[1]) or '0')
    local qty = tonumber(ARGV[1])
    if left < qty then return {0, left} end
    left = redis.call('DECRBY', KEYS[1], qty)
    redis.call('HINCRBY', KEYS[2], ARGV[2], qty)
    return {1, left}`,
  local(ops, keys, args) {
    const left = Number(ops.get(keys[0]) ?? '0');
    const qty = Number(args[0]);
    if (left < qty) return { ok: false, left };
    ops.hSet(keys[1], { [args[1]]: Number(ops.hGet(keys[1], args[1]) ?? '0') + qty });
    ops.set(keys[0], String(left - qty));
    return { ok: true, left: left - qty };
  },
  fromRedis(reply) {
    const [ok, left] = reply as [number, number];
    return { ok: ok === 1, left };
  },
};

type Made = { store: KeyValueStore; close(): Promise<void> };
const adapters: [string, () => Made | Promise<Made>][] = [
  [
    'redis',
    () => {
      const store = new RedisKeyValueStore(createRedisClient(REDIS_URL));
      return { store, close: () => store.close() };
    },
  ],
  [
    'memory',
    () => {
      const store = new MemoryKeyValueStore();
      return { store, close: async () => store.close() };
    },
  ],
  [
    'durable (DATA_DIR journal)',
    async () => {
      const dir = tempDataDir();
      const store = await DurableKeyValueStore.open(`${dir.path}/kv.log`);
      return { store, close: async () => { await store.close(); dir.remove(); } };
    },
  ],
];

describe.each(adapters)('KeyValueStore contract: %s', (name, make) => {
  let made: Made;
  let kv: KeyValueStore;
  // Unique per run: Redis is shared with other suites and developers.
  // One hash tag for the whole run: the multi-key scripts below must stay in one cluster slot.
  const p = `contract:kv:{${randomUUID()}}:`;

  beforeAll(async () => {
    made = await make();
    kv = made.store;
  });
  afterAll(async () => {
    await kv.deleteByPrefix(p);
    await made.close();
  });

  it('pings', async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });

  it('gets, sets, mGets and deletes strings', async () => {
    expect(await kv.get(`${p}s:none`)).toBeNull();
    expect(await kv.set(`${p}s:a`, '1')).toBe(true);
    expect(await kv.set(`${p}s:a`, '2', { onlyIfAbsent: true })).toBe(false);
    expect(await kv.get(`${p}s:a`)).toBe('1');
    expect(await kv.set(`${p}s:b`, 'x', { onlyIfAbsent: true })).toBe(true);
    expect(await kv.mGet([`${p}s:a`, `${p}s:none`, `${p}s:b`])).toEqual(['1', null, 'x']);
    expect(await kv.mGet([])).toEqual([]);
    expect(await kv.del([`${p}s:a`, `${p}s:b`, `${p}s:none`])).toBe(2);
    expect(await kv.del([])).toBe(0);
    expect(await kv.get(`${p}s:a`)).toBeNull();
  });

  it('expires keys (set ttl, pExpire, pTtl) and plain set clears the ttl', async () => {
    expect(await kv.pTtl(`${p}t:none`)).toBe(-2);
    expect(await kv.pExpire(`${p}t:none`, 100)).toBe(false);
    await kv.set(`${p}t:a`, 'v', { ttlMs: 100 });
    const ttl = await kv.pTtl(`${p}t:a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
    await kv.hSet(`${p}t:h`, { f: 1 });
    expect(await kv.pTtl(`${p}t:h`)).toBe(-1);
    expect(await kv.pExpire(`${p}t:h`, 100)).toBe(true);
    await kv.set(`${p}t:kept`, 'v', { ttlMs: 100 });
    await kv.set(`${p}t:kept`, 'w');
    expect(await kv.pTtl(`${p}t:kept`)).toBe(-1);
    await sleep(150);
    expect(await kv.get(`${p}t:a`)).toBeNull();
    expect(await kv.pTtl(`${p}t:a`)).toBe(-2);
    expect(await kv.hGetAll(`${p}t:h`)).toEqual({});
    expect(await kv.set(`${p}t:a`, 'again', { onlyIfAbsent: true })).toBe(true);
    expect(await kv.get(`${p}t:kept`)).toBe('w');
  });

  it('handles hashes', async () => {
    const k = `${p}h`;
    expect(await kv.hGetAll(k)).toEqual({});
    await kv.hSet(k, { a: 'x', n: 1 });
    await kv.hSet(k, {});
    expect(await kv.hGet(k, 'a')).toBe('x');
    expect(await kv.hGet(k, 'zz')).toBeNull();
    await kv.hSet(k, { n: 5, new: '-2' });
    expect(await kv.hGetAll(k)).toEqual({ a: 'x', n: '5', new: '-2' });
    expect(await kv.hDel(k, ['a', 'missing'])).toBe(1);
    expect(await kv.hDel(k, ['n', 'new'])).toBe(2);
    expect(await kv.pTtl(k)).toBe(-2); // emptied collections disappear
  });

  it('rejects operations on a key of another type', async () => {
    await kv.set(`${p}wrong`, 'str');
    await expect(kv.hSet(`${p}wrong`, { a: 1 })).rejects.toThrow(/WRONGTYPE/);
  });

  it('runs atomic scripts with the same result on both bodies', async () => {
    const stock = `${p}stock`;
    const sold = `${p}sold`;
    await kv.set(stock, '5');
    expect(await kv.runScript(takeStock, [stock, sold], [3, 'u1'])).toEqual({ ok: true, left: 2 });
    expect(await kv.runScript(takeStock, [stock, sold], [3, 'u2'])).toEqual({ ok: false, left: 2 });
    // Concurrent takers never oversell.
    const results = await Promise.all([1, 2, 3].map((i) => kv.runScript(takeStock, [stock, sold], [1, `c${i}`])));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(await kv.get(stock)).toBe('0');
    expect(await kv.hGetAll(sold)).toEqual(expect.objectContaining({ u1: '3' }));
  });

  it('runs a script first used while other commands are batching in the same tick', async () => {
    // Regression: with ioredis defineCommand + auto-pipelining this hung the whole batch.
    const fresh: AtomicScript<number> = {
      name: `contractEcho${randomUUID().slice(0, 8)}`,
      lua: `return redis.call('INCRBY', KEYS[1], ARGV[1])`,
      local(ops, keys, args) {
        const n = Number(ops.get(keys[0]) ?? '0') + Number(args[0]);
        ops.set(keys[0], String(n));
        return n;
      },
      fromRedis: (reply) => Number(reply),
    };
    const counter = `${p}fresh`;
    const mixed = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? kv.runScript(fresh, [counter], [1]) : kv.get(`${p}none`))),
    );
    expect(mixed.filter((r) => typeof r === 'number')).toHaveLength(100);
    expect(await kv.get(counter)).toBe('100');
  });

  it('deletes by prefix, matching glob characters literally', async () => {
    await kv.set(`${p}pre*x:1`, 'a');
    await kv.hSet(`${p}pre*x:2`, { a: 1 });
    await kv.set(`${p}preYx:3`, 'a');
    expect(await kv.deleteByPrefix(`${p}pre*x:`)).toBe(2);
    expect(await kv.get(`${p}preYx:3`)).toBe('a');
  });

  if (name !== 'redis') {
    it('refuses set and sorted-set reads: only Lua scripts write those, so only Redis has them', async () => {
      await expect(kv.sMembers(`${p}s`)).rejects.toThrow(/Redis only/);
      await expect(kv.zCard(`${p}z`)).rejects.toThrow(/Redis only/);
      await expect(kv.zRange(`${p}z`, 0, -1, 'asc')).rejects.toThrow(/Redis only/);
    });
    return;
  }

  /** Sets and sorted sets are written only by Lua scripts (see the port); these write them here. */
  const write = (command: 'SADD' | 'ZADD', key: string, args: (string | number)[]) =>
    kv.runScript({ name: `contract${command}`, lua: `return redis.call('${command}', KEYS[1], unpack(ARGV))`, fromRedis: Number }, [key], args);

  it('reads sets', async () => {
    const k = `${p}set`;
    await write('SADD', k, ['a', 'b', 'a', 'c']);
    expect((await kv.sMembers(k)).sort()).toEqual(['a', 'b', 'c']);
    expect(await kv.sMembers(`${p}set:none`)).toEqual([]);
  });

  describe('sorted sets', () => {
    const k = `${p}z`;
    beforeAll(async () => {
      // Ties at 10: Redis orders them by member, and desc reverses that too.
      await write('ZADD', k, [10, 'carol', 10, 'alice', 10, 'bob', 6, 'dave', 20, 'erin', '-inf', 'low']);
    });

    it('counts and reads the ends', async () => {
      expect(await kv.zCard(k)).toBe(6);
      expect(await kv.zRange(k, 0, 0, 'desc')).toEqual([{ member: 'erin', score: 20 }]);
      expect(await kv.zRange(k, 0, 0, 'asc')).toEqual([{ member: 'low', score: -Infinity }]);
    });

    it('ranges by rank, with negative indexes', async () => {
      const names = (xs: { member: string }[]) => xs.map((x) => x.member);
      expect(await kv.zRange(k, 0, -1, 'asc')).toEqual([
        { member: 'low', score: -Infinity },
        { member: 'dave', score: 6 },
        { member: 'alice', score: 10 },
        { member: 'bob', score: 10 },
        { member: 'carol', score: 10 },
        { member: 'erin', score: 20 },
      ]);
      expect(names(await kv.zRange(k, 0, 2, 'desc'))).toEqual(['erin', 'carol', 'bob']);
      expect(names(await kv.zRange(k, -2, -1, 'asc'))).toEqual(['carol', 'erin']);
      expect(names(await kv.zRange(k, 4, 100, 'desc'))).toEqual(['dave', 'low']);
      expect(await kv.zRange(k, 3, 1, 'asc')).toEqual([]);
      expect(await kv.zRange(k, 10, 20, 'asc')).toEqual([]);
      expect(await kv.zRange(`${p}z:none`, 0, -1, 'asc')).toEqual([]);
    });
  });
});

describe('RedisKeyValueStore scripts', () => {
  it('re-sends a script body after Redis forgets it (SCRIPT FLUSH, as after a restart)', async () => {
    const client = createRedisClient(REDIS_URL);
    const store = new RedisKeyValueStore(client);
    const key = `contract:kv:{${randomUUID()}}:stock`;
    try {
      await store.set(key, '2');
      expect(await store.runScript(takeStock, [key, `${key}:sold`], [1, 'a'])).toEqual({ ok: true, left: 1 });
      await client.script('FLUSH');
      expect(await store.runScript(takeStock, [key, `${key}:sold`], [1, 'b'])).toEqual({ ok: true, left: 0 });
    } finally {
      await store.deleteByPrefix(key);
      await store.close();
    }
  });
});

describe('RedisKeyValueStore ping', () => {
  it('rejects within ~1s when Redis never answers (ioredis queueing offline)', async () => {
    // A PING that never settles is what an offline ioredis client with retries gives you.
    const hung = { ping: () => new Promise(() => undefined) } as unknown as Redis;
    const started = Date.now();
    await expect(new RedisKeyValueStore(hung).ping()).rejects.toThrow(/within 1s/);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
