import { KeyValueStore, LuaScript } from '../../../platform/kv/key-value-store.port';
import { GateClock } from '../domain/waiting-room';
import { WaitingRoomStore } from '../ports/waiting-room-store.port';
import { eventKeyPrefix } from './redis-hot-inventory';

/**
 * One event's waiting room in Redis (shared by every API instance), in the event's hash slot:
 *   KEYS[1] seq    counter: the last number handed out
 *   KEYS[2] queue  sorted set token → number (score)
 *   KEYS[3] users  hash userId → token
 *   KEYS[4] owners hash token → userId
 *   KEYS[5] gate   "frontier|lastMs"
 * domain/waiting-room.ts advancedGate as Lua (ARGV[6]: the keys' ttlMs):
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

/** domain joinRoom. ARGV: userId, newToken, nowMs, rate, openAtMs, ttlMs. Reply: [token, number, frontier]. */
const JOIN_ROOM: LuaScript<[string, number, number]> = {
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
  fromRedis: (reply) => {
    const r = reply as unknown[];
    return [String(r[0]), Number(r[1]), Number(r[2])];
  },
};

/** domain peekRoom. ARGV: token, (unused), nowMs, rate, openAtMs, ttlMs. Reply: ['unknown'] | ['ok', number, frontier, userId]. */
const PEEK_ROOM: LuaScript<string[]> = {
  name: 'ticketing_room_peek',
  lua: `${ADVANCE_LUA}
local pos = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not pos then return {'unknown'} end
local f = advance(tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(redis.call('GET', KEYS[1]) or '0'))
return {'ok', pos, tostring(f), redis.call('HGET', KEYS[4], ARGV[1])}
`,
  fromRedis: (reply) => (reply as unknown[]).map(String),
};

export class RedisWaitingRoomStore extends WaitingRoomStore {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly namespace: string,
  ) {
    super();
  }

  private keys(eventId: string): string[] {
    const p = `${eventKeyPrefix(this.namespace, eventId)}:room`;
    return [`${p}:seq`, `${p}:queue`, `${p}:users`, `${p}:owners`, `${p}:gate`];
  }

  async join(eventId: string, userId: string, freshToken: string, c: GateClock & { ttlMs: number }) {
    const [token, n, frontier] = await this.kv.runScript(JOIN_ROOM, this.keys(eventId), [userId, freshToken, c.nowMs, c.rate, c.openAtMs, c.ttlMs]);
    return { token, n, frontier };
  }

  async peek(eventId: string, token: string, c: GateClock & { ttlMs: number }) {
    const r = await this.kv.runScript(PEEK_ROOM, this.keys(eventId), [token, '', c.nowMs, c.rate, c.openAtMs, c.ttlMs]);
    return r[0] === 'ok' ? { n: Number(r[1]), frontier: Number(r[2]), userId: r[3] } : undefined;
  }

  async line(eventId: string) {
    const keys = this.keys(eventId);
    const [seq, gate] = await this.kv.mGet([keys[0], keys[4]]);
    const [frontier, lastMs] = (gate ?? '').split('|').map(Number);
    return { joined: Number(seq ?? 0), gate: gate ? { frontier, lastMs } : null };
  }
}
