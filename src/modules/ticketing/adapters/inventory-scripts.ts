import type { AtomicScript, SyncKeyValueOps } from '../../../platform/kv/key-value-store.port';

/**
 * The decision TRY_HOLD makes, as Lua that falls through on success (no `return {'ok'}`), so a
 * script that adds to it (TRY_HOLD_KEYED) shares one copy. Seat ids are ARGV[firstSeatArg..].
 */
export function holdDecisionLua(firstSeatArg: number): string {
  return `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'missing'} end
local user = ARGV[2]
local maxPer = tonumber(ARGV[3])
local qty = tonumber(ARGV[4])
local held = tonumber(redis.call('HGET', KEYS[2], user) or '0')
if held + qty > maxPer then return {'limit', tostring(held)} end
if ARGV[1] == 'ga' then
  local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
  if stock < qty then return {'sold_out', tostring(stock)} end
  redis.call('DECRBY', KEYS[1], qty)
else
  local bad = {'seat_unavailable'}
  for i = ${firstSeatArg}, #ARGV do
    if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then table.insert(bad, ARGV[i]) end
  end
  if #bad > 1 then return bad end
  for i = ${firstSeatArg}, #ARGV do redis.call('SREM', KEYS[1], ARGV[i]) end
end
redis.call('HINCRBY', KEYS[2], user, qty)`;
}

/**
 * Hot inventory of one event in the key/value store, decided atomically (one Lua script in Redis,
 * the same logic synchronously in memory):
 *   KEYS[1] stock: GA → a counter of free places; SEATED → a set of free seat ids
 *   KEYS[2] users: hash userId → places the user holds or bought
 *   KEYS[3] ready: marker written last by a rebuild; without it the script answers `missing`
 * ARGV: mode ('ga'|'seated'), userId, maxPerUser, quantity, seatIds...
 * Reply: ['ok'] | ['missing'] | ['limit', held] | ['sold_out', available] | ['seat_unavailable', ...ids]
 */
export const TRY_HOLD: AtomicScript<string[]> = {
  name: 'ticketing_try_hold',
  lua: `${holdDecisionLua(5)}
return {'ok'}`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): string[] {
    if (!ops.exists(keys[2])) return ['missing'];
    const [mode, user, maxPerRaw, qtyRaw, ...seats] = args;
    const maxPer = Number(maxPerRaw);
    const qty = Number(qtyRaw);
    const held = Number(ops.hGet(keys[1], user) ?? '0');
    if (held + qty > maxPer) return ['limit', String(held)];
    if (mode === 'ga') {
      const stock = Number(ops.get(keys[0]) ?? '0');
      if (stock < qty) return ['sold_out', String(stock)];
      ops.incrBy(keys[0], -qty);
    } else {
      const bad = seats.filter((s) => !ops.sIsMember(keys[0], s));
      if (bad.length > 0) return ['seat_unavailable', ...bad];
      ops.sRem(keys[0], seats);
    }
    ops.hIncrBy(keys[1], user, qty);
    return ['ok'];
  },
  fromRedis: (reply) => (reply as unknown[]).map(String),
};

/**
 * Gives places back (release, expiry, failed payment, or undoing a hold SQL refused). Same KEYS;
 * ARGV: mode, userId, quantity, seatIds... Without the ready marker it does nothing: the next
 * rebuild reads SQL, which already reflects the release.
 */
export const RELEASE: AtomicScript<number> = {
  name: 'ticketing_release',
  lua: `
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local qty = tonumber(ARGV[3])
if ARGV[1] == 'ga' then
  redis.call('INCRBY', KEYS[1], qty)
else
  for i = 4, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
end
local left = redis.call('HINCRBY', KEYS[2], ARGV[2], -qty)
if left <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
return 1
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): number {
    if (!ops.exists(keys[2])) return 0;
    const [mode, user, qtyRaw, ...seats] = args;
    const qty = Number(qtyRaw);
    if (mode === 'ga') ops.incrBy(keys[0], qty);
    else if (seats.length > 0) ops.sAdd(keys[0], seats);
    const left = ops.hIncrBy(keys[1], user, -qty);
    if (left <= 0) ops.hDel(keys[1], user);
    return 1;
  },
  fromRedis: (reply) => Number(reply),
};
