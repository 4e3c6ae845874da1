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
 * Gives places back (release, expiry, failed payment, or undoing a hold SQL refused). KEYS: stock,
 * users, ready, and (optional) the event's release log; ARGV: mode, userId, quantity, seatIds...
 * Without the ready marker nothing changes in the inventory, but while a rebuild runs (its release
 * log exists) the places are logged, so the rebuild can add back a release whose SQL commit its
 * read may have missed (see REBUILD_COMMIT).
 */
export const RELEASE: AtomicScript<number> = {
  name: 'ticketing_release',
  lua: `
if redis.call('EXISTS', KEYS[3]) == 0 then
  if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 1 then
    local seats = {}
    for i = 4, #ARGV do seats[#seats + 1] = ARGV[i] end
    local n = redis.call('HINCRBY', KEYS[4], '#', 1)
    redis.call('HSET', KEYS[4], tostring(n), ARGV[3] .. '|' .. table.concat(seats, ','))
  end
  return 0
end
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
    const [mode, user, qtyRaw, ...seats] = args;
    if (!ops.exists(keys[2])) {
      if (keys[3] !== undefined && ops.exists(keys[3])) {
        const n = ops.hIncrBy(keys[3], '#', 1);
        ops.hSet(keys[3], { [String(n)]: `${qtyRaw}|${seats.join(',')}` });
      }
      return 0;
    }
    const qty = Number(qtyRaw);
    if (mode === 'ga') ops.incrBy(keys[0], qty);
    else if (seats.length > 0) ops.sAdd(keys[0], seats);
    const left = ops.hIncrBy(keys[1], user, -qty);
    if (left <= 0) ops.hDel(keys[1], user);
    return 1;
  },
  fromRedis: (reply) => Number(reply),
};

/**
 * Ends a rebuild atomically: writes the inventory read from SQL, adds back the places of releases
 * logged after that read began (their SQL commit may have come after the read: adding them can
 * only over-count, which SQL's guarded write absorbs, never under-count and turn buyers away), drops
 * the log and sets the ready marker, so holds resume against the whole new state at once.
 * KEYS: stock, users, ready, release log. ARGV: mode, ready value, log entries already in the read,
 * user count n, then n pairs (userId, places), then GA: free count / seated: free seat ids...
 */
export const REBUILD_COMMIT: AtomicScript<number> = {
  name: 'ticketing_rebuild_commit',
  lua: `
local mode, since, nu = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('DEL', KEYS[1], KEYS[2])
local i = 5
for k = 1, nu do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if mode == 'ga' then redis.call('SET', KEYS[1], ARGV[i]) else for j = i, #ARGV do redis.call('SADD', KEYS[1], ARGV[j]) end end
local n = tonumber(redis.call('HGET', KEYS[4], '#') or '0')
local added = 0
for k = since + 1, n do
  local e = redis.call('HGET', KEYS[4], tostring(k))
  if e then
    local sep = string.find(e, '|', 1, true)
    local qty = tonumber(string.sub(e, 1, sep - 1))
    if mode == 'ga' then
      redis.call('INCRBY', KEYS[1], qty)
    else
      for seat in string.gmatch(string.sub(e, sep + 1), '[^,]+') do redis.call('SADD', KEYS[1], seat) end
    end
    added = added + qty
  end
end
redis.call('DEL', KEYS[4])
redis.call('SET', KEYS[3], ARGV[2])
return added
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): number {
    const [stock, users, ready, log] = keys;
    const [mode, readyValue, sinceRaw, nuRaw] = args;
    ops.del(stock);
    ops.del(users);
    let i = 4;
    for (let k = 0; k < Number(nuRaw); k++, i += 2) ops.hSet(users, { [args[i]]: args[i + 1] });
    if (mode === 'ga') ops.set(stock, args[i]);
    else if (args.length > i) ops.sAdd(stock, args.slice(i));
    let added = 0;
    const n = Number(ops.hGet(log, '#') ?? '0');
    for (let k = Number(sinceRaw) + 1; k <= n; k++) {
      const e = ops.hGet(log, String(k));
      if (e === null) continue;
      const sep = e.indexOf('|');
      const qty = Number(e.slice(0, sep));
      if (mode === 'ga') ops.incrBy(stock, qty);
      else if (sep + 1 < e.length) ops.sAdd(stock, e.slice(sep + 1).split(','));
      added += qty;
    }
    ops.del(log);
    ops.set(ready, readyValue);
    return added;
  },
  fromRedis: (reply) => Number(reply),
};
