import type { AtomicScript, SyncKeyValueOps } from '../../../platform/kv/key-value-store.port';

/**
 * Claims an Idempotency-Key for a hold. KEYS[1] the key's claim, KEYS[2] the "claims loaded"
 * sentinel (gone after a Redis flush: then the claims must be reloaded from SQL before any answer
 * is trusted). ARGV: claim value, ttlMs. Reply: ['unloaded'] | ['new'] | ['exists', value].
 */
export const CLAIM_KEY: AtomicScript<string[]> = {
  name: 'ticketing_claim_hold_key',
  lua: `
if redis.call('EXISTS', KEYS[2]) == 0 then return {'unloaded'} end
local v = redis.call('GET', KEYS[1])
if v then return {'exists', v} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {'new'}
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): string[] {
    if (!ops.exists(keys[1])) return ['unloaded'];
    const v = ops.get(keys[0]);
    if (v !== null) return ['exists', v];
    ops.set(keys[0], args[0], { ttlMs: Number(args[1]) });
    return ['new'];
  },
  fromRedis: (reply) => (reply as unknown[]).map(String),
};

/** Compare-and-set of one claim: ARGV old, new ('' deletes), ttlMs. Reply 1 when swapped. */
export const SWAP_KEY: AtomicScript<number> = {
  name: 'ticketing_swap_hold_key',
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): number {
    if (ops.get(keys[0]) !== args[0]) return 0;
    if (args[1] === '') ops.del(keys[0]);
    else ops.set(keys[0], args[1], { ttlMs: Number(args[2]) });
    return 1;
  },
  fromRedis: (reply) => Number(reply),
};

/** Bulk reload after a flush: KEYS = claims, ARGV = ttlMs then one value per key; SET NX each (a live claim wins). */
export const LOAD_KEYS: AtomicScript<number> = {
  name: 'ticketing_load_hold_keys',
  lua: `
local n = 0
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1], 'NX') then n = n + 1 end
end
return n
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): number {
    let n = 0;
    keys.forEach((k, i) => {
      if (ops.set(k, args[i + 1], { ttlMs: Number(args[0]), onlyIfAbsent: true })) n++;
    });
    return n;
  },
  fromRedis: (reply) => Number(reply),
};
