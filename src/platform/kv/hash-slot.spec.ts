import { AtomicScript } from './key-value-store.port';
import { assertOneSlot, CrossSlotKeysError, hashSlot } from './hash-slot';
import { MemoryKeyValueStore } from './memory-key-value-store';

const TOUCH: AtomicScript<number> = {
  name: 'touch-all',
  lua: 'for i = 1, #KEYS do redis.call("SET", KEYS[i], "1") end return #KEYS',
  local(ops, keys) {
    for (const k of keys) ops.set(k, '1');
    return keys.length;
  },
  fromRedis: Number,
};

describe('Redis Cluster hash slots', () => {
  it('computes Redis slots, by the hash tag when a key has one', () => {
    // Values from the Redis Cluster specification / CLUSTER KEYSLOT.
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('{user1000}.followers'));
    expect(hashSlot('a:{b}:c')).toBe(hashSlot('b'));
  });

  it('rejects a script whose keys could land on two nodes, in the embedded store too', async () => {
    expect(() => assertOneSlot('s', ['a:{x}:1', 'a:{x}:2'])).not.toThrow();
    expect(() => assertOneSlot('s', ['a:{x}:1', 'a:{y}:2'])).toThrow(CrossSlotKeysError);
    const kv = new MemoryKeyValueStore();
    try {
      await expect(kv.runScript(TOUCH, ['ns:{e1}:stock', 'ns:{e1}:users'], [])).resolves.toBe(2);
      await expect(kv.runScript(TOUCH, ['ns:{e1}:stock', 'ns:{e2}:users'], [])).rejects.toThrow(/span Redis Cluster hash slots/);
      // Nothing of the refused call was written.
      expect(await kv.get('ns:{e2}:users')).toBeNull();
    } finally {
      kv.close();
    }
  });
});
