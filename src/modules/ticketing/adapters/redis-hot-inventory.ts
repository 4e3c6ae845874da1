import { KeyValueStore, LuaScript } from '../../../platform/kv/key-value-store.port';
import { HotDecision } from '../domain/hot-inventory';
import { HotInventory, KeyClaim } from '../ports/hot-inventory.port';
import { HotSnapshot, InventoryEvent } from '../ports/inventory-strategy.port';

/**
 * The hot keys of one event. All share the `{eventId}` hash tag, so every script below runs on one
 * Redis Cluster node, and events spread over the primaries. The one place that knows this layout.
 */
export const eventKeyPrefix = (namespace: string, eventId: string) => `${namespace}:ticketing:{${eventId}}`;
export const hotKeys = (namespace: string, eventId: string) => {
  const p = eventKeyPrefix(namespace, eventId);
  return { stock: `${p}:stock`, users: `${p}:users`, ready: `${p}:ready`, released: `${p}:released`, claim: (key: string) => `${p}:holdkey:${key}`, loaded: `${p}:holdkey-loaded` };
};

/** domain/decideHold as Lua, falling through on success. KEYS: stock, users, ready. ARGV: mode, userId, maxPerUser, quantity, then seat ids from ARGV[firstSeat]. */
const decisionLua = (firstSeat: number) => `
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
  for i = ${firstSeat}, #ARGV do
    if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then table.insert(bad, ARGV[i]) end
  end
  if #bad > 1 then return bad end
  for i = ${firstSeat}, #ARGV do redis.call('SREM', KEYS[1], ARGV[i]) end
end
redis.call('HINCRBY', KEYS[2], user, qty)`;

const reply = (r: unknown) => (r as unknown[]).map(String);

/** Reply: ['ok'] | ['missing'] | ['limit', held] | ['sold_out', available] | ['seat_unavailable', ...ids]. */
const TRY_HOLD: LuaScript<string[]> = { name: 'ticketing_try_hold', lua: `${decisionLua(5)}
return {'ok'}`, fromRedis: reply };

/**
 * TRY_HOLD and the key's claim in ONE script, so a loser of a flash sale costs one round trip: the
 * claim is written only when the places are taken, and a key already claimed is answered from its
 * claim without deciding. KEYS: stock, users, ready, claim, loaded sentinel. ARGV: mode, userId,
 * maxPerUser, quantity, claim value, claim ttlMs, seatIds... Extra replies: ['unloaded'] | ['claimed', value].
 */
const TRY_HOLD_KEYED: LuaScript<string[]> = {
  name: 'ticketing_try_hold_keyed',
  lua: `
if redis.call('EXISTS', KEYS[5]) == 0 then return {'unloaded'} end
local v = redis.call('GET', KEYS[4])
if v then return {'claimed', v} end
${decisionLua(7)}
redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[6])
return {'ok'}
`,
  fromRedis: reply,
};

/** domain/releasePlaces. KEYS: stock, users, ready, release log; ARGV: mode, userId, quantity, seatIds... */
const RELEASE: LuaScript<number> = {
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
  fromRedis: Number,
};

/**
 * domain/commitRebuild. KEYS: stock, users, ready, release log. ARGV: mode, ready value, log entries
 * already in the read, user count n, then n pairs (userId, places), then GA: free count / seated: free seat ids...
 */
const REBUILD_COMMIT: LuaScript<number> = {
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
  fromRedis: Number,
};

/** Compare-and-set of one claim: ARGV old, new ('' deletes), ttlMs. Reply 1 when swapped. */
const SWAP_KEY: LuaScript<number> = {
  name: 'ticketing_swap_hold_key',
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
`,
  fromRedis: Number,
};

/** Bulk reload after a flush: KEYS = claims, ARGV = ttlMs then one value per key; SET NX each (a live claim wins). */
const LOAD_KEYS: LuaScript<number> = {
  name: 'ticketing_load_hold_keys',
  lua: `
local n = 0
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1], 'NX') then n = n + 1 end
end
return n
`,
  fromRedis: Number,
};

const DECISIONS: Record<string, (r: string[]) => HotDecision> = {
  ok: () => ({ outcome: 'ok' }),
  missing: () => ({ outcome: 'missing' }),
  unloaded: () => ({ outcome: 'unloaded' }),
  claimed: (r) => ({ outcome: 'claimed', claim: r[1] }),
  limit: (r) => ({ outcome: 'limit', held: Number(r[1]) }),
  sold_out: (r) => ({ outcome: 'sold_out', available: Number(r[1]) }),
  seat_unavailable: (r) => ({ outcome: 'seat_unavailable', seatIds: r.slice(1) }),
};

const mode = (e: InventoryEvent) => (e.kind === 'GA' ? 'ga' : 'seated');

/** The hot inventory in Redis: every step one Lua script (or one command), shared by all API processes. */
export class RedisHotInventory extends HotInventory {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly namespace: string,
    private readonly now: () => number,
  ) {
    super();
  }

  async tryHold(e: InventoryEvent, userId: string, quantity: number, seatIds: string[], claim?: KeyClaim): Promise<HotDecision> {
    const k = hotKeys(this.namespace, e.id);
    const r = claim
      ? await this.kv.runScript(TRY_HOLD_KEYED, [k.stock, k.users, k.ready, k.claim(claim.key), k.loaded], [mode(e), userId, e.maxPerUser, quantity, claim.value, claim.ttlMs, ...seatIds])
      : await this.kv.runScript(TRY_HOLD, [k.stock, k.users, k.ready], [mode(e), userId, e.maxPerUser, quantity, ...seatIds]);
    const decide = DECISIONS[r[0]];
    if (!decide) throw new Error(`unexpected inventory reply ${r.join(',')}`);
    return decide(r);
  }

  async release(e: InventoryEvent, userId: string, quantity: number, seatIds: string[]): Promise<void> {
    const k = hotKeys(this.namespace, e.id);
    await this.kv.runScript(RELEASE, [k.stock, k.users, k.ready, k.released], [mode(e), userId, quantity, ...(e.kind === 'GA' ? [] : seatIds)]);
  }

  async isReady(eventId: string): Promise<boolean> {
    return (await this.kv.get(hotKeys(this.namespace, eventId).ready)) !== null;
  }

  async beginRebuild(eventId: string): Promise<number | null> {
    const k = hotKeys(this.namespace, eventId);
    if (!(await this.kv.set(`${k.ready}:lock`, '1', { onlyIfAbsent: true, ttlMs: 10_000 }))) return null;
    await this.kv.del([k.released]);
    await this.kv.hSet(k.released, { '#': 0 });
    await this.kv.pExpire(k.released, 60_000); // a rebuilder that dies leaves no log behind for long
    await this.kv.del([k.ready]);
    // Releases logged up to here ran before the SQL read that follows, so their commits are in it.
    return Number((await this.kv.hGet(k.released, '#')) ?? '0');
  }

  async commitRebuild(e: InventoryEvent, since: number, free: number | string[], perUser: Map<string, number>): Promise<void> {
    const k = hotKeys(this.namespace, e.id);
    const args: (string | number)[] = [mode(e), String(this.now()), since, perUser.size];
    for (const [user, n] of perUser) args.push(user, n);
    if (typeof free === 'number') args.push(free);
    else args.push(...free);
    await this.kv.runScript(REBUILD_COMMIT, [k.stock, k.users, k.ready, k.released], args);
  }

  async endRebuild(eventId: string): Promise<void> {
    await this.kv.del([`${hotKeys(this.namespace, eventId).ready}:lock`]);
  }

  async snapshot(e: InventoryEvent): Promise<HotSnapshot> {
    const k = hotKeys(this.namespace, e.id);
    const ready = await this.isReady(e.id);
    const [free, users] = await Promise.all([e.kind === 'GA' ? this.kv.get(k.stock).then((n) => Number(n ?? '0')) : this.kv.sMembers(k.stock), this.kv.hGetAll(k.users)]);
    return { ready, free, users: Object.fromEntries(Object.entries(users).map(([u, n]) => [u, Number(n)])) };
  }

  async forget(eventId: string): Promise<void> {
    await this.kv.del([hotKeys(this.namespace, eventId).ready]);
  }

  claim(eventId: string, key: string): Promise<string | null> {
    return this.kv.get(hotKeys(this.namespace, eventId).claim(key));
  }

  async swapClaim(eventId: string, key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    return (await this.kv.runScript(SWAP_KEY, [hotKeys(this.namespace, eventId).claim(key)], [expected, next, ttlMs])) === 1;
  }

  beginClaimsLoad(eventId: string): Promise<boolean> {
    return this.kv.set(`${hotKeys(this.namespace, eventId).loaded}:lock`, '1', { onlyIfAbsent: true, ttlMs: 60_000 });
  }

  async loadClaims(eventId: string, claims: [string, string][], ttlMs: number): Promise<void> {
    const k = hotKeys(this.namespace, eventId);
    await this.kv.runScript(LOAD_KEYS, claims.map(([key]) => k.claim(key)), [ttlMs, ...claims.map(([, v]) => v)]);
  }

  async endClaimsLoad(eventId: string, complete: boolean): Promise<void> {
    const k = hotKeys(this.namespace, eventId);
    if (complete) await this.kv.set(k.loaded, String(this.now()));
    await this.kv.del([`${k.loaded}:lock`]);
  }

  async claimsLoaded(eventId: string): Promise<boolean> {
    return (await this.kv.get(hotKeys(this.namespace, eventId).loaded)) !== null;
  }
}
