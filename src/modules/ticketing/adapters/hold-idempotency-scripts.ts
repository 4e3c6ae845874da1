import type { AtomicScript, SyncKeyValueOps } from '../../../platform/kv/key-value-store.port';
import { holdDecisionLua, TRY_HOLD } from './inventory-scripts';

/**
 * Every hot key of one event shares the `{eventId}` hash tag, so the hold scripts (stock, users,
 * ready, claim, sentinel) run on one Redis Cluster node, and events spread over the primaries.
 */
export const eventKeyPrefix = (namespace: string, eventId: string) => `${namespace}:ticketing:{${eventId}}`;
/** Key of one Idempotency-Key's claim, and of the sentinel saying the event's claims are all present. */
export const holdKeyClaim = (namespace: string, eventId: string, key: string) => `${eventKeyPrefix(namespace, eventId)}:holdkey:${key}`;
export const claimsLoadedKey = (namespace: string, eventId: string) => `${eventKeyPrefix(namespace, eventId)}:holdkey-loaded`;

/**
 * TRY_HOLD and the key's claim in ONE script, so a loser of a flash sale costs one round trip:
 * the claim is written only when the places are taken (a loser leaves no claim to clean up), and
 * a request whose key is already claimed is answered from the claim without deciding again.
 * KEYS: stock, users, ready (as TRY_HOLD), claim, loaded sentinel.
 * ARGV: mode, userId, maxPerUser, quantity, claim value, claim ttlMs, seatIds...
 * Reply: TRY_HOLD's replies, or ['unloaded'] | ['claimed', value].
 */
export const TRY_HOLD_KEYED: AtomicScript<string[]> = {
  name: 'ticketing_try_hold_keyed',
  lua: `
if redis.call('EXISTS', KEYS[5]) == 0 then return {'unloaded'} end
local v = redis.call('GET', KEYS[4])
if v then return {'claimed', v} end
${holdDecisionLua(7)}
redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[6])
return {'ok'}
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): string[] {
    if (!ops.exists(keys[4])) return ['unloaded'];
    const v = ops.get(keys[3]);
    if (v !== null) return ['claimed', v];
    const [mode, user, maxPer, qty, claim, ttl, ...seats] = args;
    const reply = TRY_HOLD.local(ops, keys.slice(0, 3), [mode, user, maxPer, qty, ...seats]);
    if (reply[0] === 'ok') ops.set(keys[3], claim, { ttlMs: Number(ttl) });
    return reply;
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
