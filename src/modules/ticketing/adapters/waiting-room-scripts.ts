import type { AtomicScript, SyncKeyValueOps } from '../../../platform/kv/key-value-store.port';

/**
 * One event's waiting room in the key/value store (shared by every API instance):
 *   KEYS[1] seq    counter: the last position handed out
 *   KEYS[2] queue  sorted set token → position (score)
 *   KEYS[3] users  hash userId → token (one place in line per user)
 *   KEYS[4] owners hash token → userId (a token is bound to the user it was issued to)
 *   KEYS[5] gate   "frontier|lastMs": positions <= floor(frontier) are admitted
 * The gate is advanced lazily by whoever calls, from the clock: frontier += elapsed × rate, counted
 * only from salesOpenAt, and capped at (last position + rate) so an idle room banks at most one
 * second of admissions (the next `rate` arrivals walk straight in, then `rate` per second).
 * Advancing inside the script keeps it atomic, so no admission ticker process is needed.
 */
const ADVANCE_LUA = `
local function advance(now, rate, openAt, tail)
  local g = redis.call('GET', KEYS[5])
  local f, last = rate, now
  if g then
    local sep = string.find(g, '|', 1, true)
    f = tonumber(string.sub(g, 1, sep - 1))
    last = tonumber(string.sub(g, sep + 1))
  end
  local from = math.max(last, openAt)
  if now > from then
    local cap = math.max(f, tail + rate)
    f = math.min(f + (now - from) * rate / 1000, cap)
  end
  if now > last then last = now end
  f = tonumber(string.format('%.3f', f))
  redis.call('SET', KEYS[5], string.format('%.3f', f) .. '|' .. string.format('%d', last), 'PX', ARGV[6])
  return f
end
`;

function advance(ops: SyncKeyValueOps, keys: string[], now: number, rate: number, openAt: number, tail: number, ttlMs: number): number {
  const g = ops.get(keys[4]);
  let f = rate;
  let last = now;
  if (g !== null) {
    const [fs, ls] = g.split('|');
    f = Number(fs);
    last = Number(ls);
  }
  const from = Math.max(last, openAt);
  if (now > from) f = Math.min(f + ((now - from) * rate) / 1000, Math.max(f, tail + rate));
  if (now > last) last = now;
  // Same rounding as the Lua string.format so both stores agree to the millisecond.
  f = Number(f.toFixed(3));
  ops.set(keys[4], `${f.toFixed(3)}|${last}`, { ttlMs });
  return f;
}

/**
 * Joins (or re-finds) the user's place. ARGV: userId, newToken, nowMs, rate, openAtMs, ttlMs.
 * Reply: [token, position, frontier].
 */
export const JOIN_ROOM: AtomicScript<[string, number, number]> = {
  name: 'ticketing_room_join',
  lua: `${ADVANCE_LUA}
local now, rate, openAt = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
-- Advance before taking a number, so the cap counts the line as it was: an idle room then admits
-- exactly the next admitPerSecond arrivals at once.
local f = advance(now, rate, openAt, tonumber(redis.call('GET', KEYS[1]) or '0'))
local token = redis.call('HGET', KEYS[3], ARGV[1])
local pos
if token then
  pos = tonumber(redis.call('ZSCORE', KEYS[2], token))
else
  token = ARGV[2]
  pos = redis.call('INCR', KEYS[1])
  redis.call('ZADD', KEYS[2], pos, token)
  redis.call('HSET', KEYS[3], ARGV[1], token)
  redis.call('HSET', KEYS[4], token, ARGV[1])
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
end
return {token, pos, tostring(f)}
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): [string, number, number] {
    const [user, fresh, nowS, rateS, openS, ttlS] = args;
    const f = advance(ops, keys, Number(nowS), Number(rateS), Number(openS), Number(ops.get(keys[0]) ?? '0'), Number(ttlS));
    let token = ops.hGet(keys[2], user);
    let pos: number;
    if (token !== null) pos = ops.zScore(keys[1], token) ?? 0;
    else {
      token = fresh;
      pos = ops.incrBy(keys[0], 1);
      ops.zAdd(keys[1], [{ member: token, score: pos }]);
      ops.hSet(keys[2], { [user]: token });
      ops.hSet(keys[3], { [token]: user });
      for (let i = 0; i < 4; i++) ops.pExpire(keys[i], Number(ttlS));
    }
    return [token, pos, f];
  },
  fromRedis: (reply) => {
    const r = reply as unknown[];
    return [String(r[0]), Number(r[1]), Number(r[2])];
  },
};

/**
 * Looks a token up. ARGV: token, (unused), nowMs, rate, openAtMs, ttlMs.
 * Reply: ['unknown'] | ['ok', position, frontier, userId].
 */
export const PEEK_ROOM: AtomicScript<string[]> = {
  name: 'ticketing_room_peek',
  lua: `${ADVANCE_LUA}
local pos = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not pos then return {'unknown'} end
local f = advance(tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(redis.call('GET', KEYS[1]) or '0'))
return {'ok', pos, tostring(f), redis.call('HGET', KEYS[4], ARGV[1])}
`,
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): string[] {
    const [token, , nowS, rateS, openS, ttlS] = args;
    const pos = ops.zScore(keys[1], token);
    if (pos === null) return ['unknown'];
    const f = advance(ops, keys, Number(nowS), Number(rateS), Number(openS), Number(ops.get(keys[0]) ?? '0'), Number(ttlS));
    return ['ok', String(pos), String(f), ops.hGet(keys[3], token) ?? ''];
  },
  fromRedis: (reply) => (reply as unknown[]).map(String),
};
