import { KeyValueStore, LuaScript, ZMember } from '../../../platform/kv/key-value-store.port';
import { pairs, parseScore } from '../../../platform/kv/score-bound';
import { tupleKey } from '../../../platform/idempotency/request-fingerprint';
import { ApplyOutcome, claimsId, decodeMember, DEDUPE_TTL_MS, encodeMember, mergeTopK, RankedEntry, ScoreWrite, SEQ_WIDTH, shardOf } from '../domain';
import { BoardRef, PlayerView, RankStore, StoredRankedEntry } from '../ports/rank-store.port';

/** Writes per script call: long enough to amortise the call, short enough not to stall Redis. */
const APPLY_CHUNK = 200;

/**
 * The domain's applyScoreWrite in Lua, for a run of writes to one shard (the whole run is one
 * script, each write atomic): position dedupe, the 24 h `SET NX PX` key on a caller-chosen id,
 * tombstone, policy, member (tie-break time) kept when the score is unchanged, else ZREM the old
 * member and ZADD the new one. One call per shard and chunk rather than per write: the
 * per-command cost (client encoding, round trip, EVALSHA dispatch) dominated the write path.
 * KEYS: zset, member hash, metadata hash, tombstone hash, position hash, then one dedupe key per
 * write. ARGV: policy, order, dedupe ttl ms, then per write: playerId, score, newMember, metadata
 * JSON ('' for none), seq, use the dedupe key ('1'/'0'), position ('' for none). Returns one outcome
 * per write, in order.
 */
export const APPLY_SCORES: LuaScript<ApplyOutcome[]> = {
  name: 'leaderboard-apply-scores',
  lua: `
local z, m, d, t, o = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local policy, order, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function apply(dd, player, incoming, newMember, meta, seq, useKey, pos)
  if pos ~= '' then
    local last = redis.call('HGET', o, player)
    if last then
      local lp, lo = string.match(last, '^(%d+):(%d+)$')
      local wp, wo = string.match(pos, '^(%d+):(%d+)$')
      if lp == wp and tonumber(lo) >= tonumber(wo) then return 'duplicate' end
    end
  end
  if useKey == '1' and not redis.call('SET', dd, '1', 'NX', 'PX', ttl) then return 'duplicate' end
  if pos ~= '' then redis.call('HSET', o, player, pos) end
  local tomb = redis.call('HGET', t, player)
  if tomb and tonumber(tomb) >= seq then return 'stale' end
  local oldMember = redis.call('HGET', m, player)
  local old = nil
  if oldMember then old = tonumber(redis.call('ZSCORE', z, oldMember)) end
  local score = incoming
  if policy == 'best' then
    if old ~= nil then
      if (order == 'desc' and old >= incoming) or (order == 'asc' and old <= incoming) then score = old end
    end
  elseif policy == 'increment' then
    score = (old or 0) + incoming
    if score > 9007199254740991 or score < -9007199254740991 then return 'rejected' end
  end
  local member = newMember
  if old ~= nil and old == score then member = oldMember end
  if oldMember and oldMember ~= member then redis.call('ZREM', z, oldMember) end
  if old == nil or old ~= score then
    redis.call('ZADD', z, string.format('%.17g', score), member)
    redis.call('HSET', m, player, member)
  end
  if meta ~= '' and (old == nil or old ~= score or policy == 'overwrite') then redis.call('HSET', d, player, meta) end
  return 'applied'
end
local out = {}
for i = 1, #KEYS - 5 do
  local a = 3 + (i - 1) * 7
  out[i] = apply(KEYS[5 + i], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5]), ARGV[a + 6], ARGV[a + 7])
end
return out
`,
  fromRedis(reply: unknown): ApplyOutcome[] {
    return (reply as unknown[]).map((r) => String(r) as ApplyOutcome);
  },
};

/**
 * The domain's removePlayer in Lua: drops the player's entry and raises its tombstone to the
 * DELETE's seq, so a write accepted before the DELETE but still in the log arrives stale.
 * KEYS: zset, member hash, metadata hash, tombstone hash. ARGV: playerId, seq.
 */
export const REMOVE_PLAYER: LuaScript<boolean> = {
  name: 'leaderboard-remove-player',
  lua: `
local tomb = redis.call('HGET', KEYS[4], ARGV[1])
if not tomb or tonumber(tomb) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[4], ARGV[1], ARGV[2]) end
local member = redis.call('HGET', KEYS[2], ARGV[1])
if not member then return 0 end
redis.call('ZREM', KEYS[1], member)
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`,
  fromRedis(reply: unknown): boolean {
    return Number(reply) === 1;
  },
};

/** One shard's part of a player view (SHARD_VIEW's reply, parsed). */
interface ShardView {
  score: number;
  member: string;
  /** Entries of this shard strictly better than the player (its insertion position). */
  better: number;
  card: number;
  /** The entries around the player's position, in board order; members still encoded. */
  window: ZMember[];
  /** Metadata JSON of each window entry (null: none). */
  metadata: (string | null)[];
}

/**
 * A player's view of one shard in one round trip (read-only): the number of entries strictly
 * better than the player, the shard's size, and the entries around the player's position with
 * their metadata. On the player's own shard (ARGV player set) it first reads the player's member
 * and score, and the count is ZREVRANK/ZRANK (Redis order is board order). On the other shards
 * (ARGV score + member of the probe) it is ZCOUNT of better scores plus the tied members that sort
 * before the probe, found by binary search over the ties' ranks and compared bytewise (Lua's `<` on
 * strings follows the locale). Nothing is written, so it runs on a replica (EVALSHA_RO); the old
 * ZADD/ZRANK/ZREM probe of the foreign shard was a write inside a read.
 * KEYS: zset, metadata hash, member hash. ARGV: order, around (-1: no window), playerId or '',
 * score, member. Reply: {0} when the player has no entry, else {1, score, member, better, card,
 * window [member, score, ...], metadata [...]}.
 */
export const SHARD_VIEW: LuaScript<ShardView | null> = {
  name: 'leaderboard-shard-view',
  readOnly: true,
  lua: `
local z, d, m = KEYS[1], KEYS[2], KEYS[3]
local order, around = ARGV[1], tonumber(ARGV[2])
local player, score, member = ARGV[3], ARGV[4], ARGV[5]
local own = 0
if player ~= '' then
  member = redis.call('HGET', m, player)
  if not member then return {0} end
  score = redis.call('ZSCORE', z, member)
  if not score then return {0} end
  own = 1
end
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local card = redis.call('ZCARD', z)
local better
if own == 1 then
  if order == 'desc' then better = redis.call('ZREVRANK', z, member) else better = redis.call('ZRANK', z, member) end
else
  local c
  if order == 'desc' then c = redis.call('ZCOUNT', z, '(' .. score, '+inf') else c = redis.call('ZCOUNT', z, '-inf', '(' .. score) end
  -- The ties sit at board positions [c, c + ties) in member order: binary search the first one
  -- the probe sorts before, reading one element by rank per step (O(log ties * log n)).
  local lo, hi = 0, redis.call('ZCOUNT', z, score, score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local t
    if order == 'desc' then t = redis.call('ZREVRANGE', z, c + mid, c + mid)[1] else t = redis.call('ZRANGE', z, c + mid, c + mid)[1] end
    if (order == 'desc' and before(member, t)) or (order ~= 'desc' and before(t, member)) then lo = mid + 1 else hi = mid end
  end
  better = c + lo
end
local window, metas = {}, {}
if around >= 0 then
  local start = math.max(0, better - around)
  local stop = better + around - 1 + own
  if stop >= start then
    if order == 'desc' then window = redis.call('ZREVRANGE', z, start, stop, 'WITHSCORES') else window = redis.call('ZRANGE', z, start, stop, 'WITHSCORES') end
    local ids = {}
    for i = 1, #window, 2 do ids[#ids + 1] = string.sub(window[i], ${SEQ_WIDTH + 2}) end
    if #ids > 0 then metas = redis.call('HMGET', d, unpack(ids)) end
  end
end
return {1, score, member, better, card, window, metas}
`,
  fromRedis(reply: unknown): ShardView | null {
    const r = reply as unknown[];
    if (Number(r[0]) === 0) return null;
    const member = String(r[2]);
    return {
      score: parseScore(String(r[1])),
      member,
      better: Number(r[3]),
      card: Number(r[4]),
      window: pairs(r[5] as string[]),
      metadata: (r[6] as (string | null)[]).map((x) => (x === null || x === undefined ? null : String(x))),
    };
  },
};

/**
 * The full profile's RankStore: Redis (one or a cluster) through the KeyValueStore port's script
 * runner, the rules in Lua (APPLY_SCORES is the domain's applyScoreWrite, REMOVE_PLAYER its
 * removePlayer). A board season is split into `shards` sorted sets
 * (player → shard by FNV-1a); each shard has its own hash tag so shards spread over a Redis Cluster.
 * Shard keys: zset of encoded members (score = game score), hash playerId → member, hash
 * playerId → metadata JSON. Ranks are exact: the sum over shards of entries strictly better.
 */
export class RedisRankStore extends RankStore {
  /** Where top, player views and ranks read: replicas with REDIS_READ_FROM=replica. */
  private readonly reads: KeyValueStore;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly namespace: string,
  ) {
    super();
    this.reads = kv.forReads();
  }

  private base(boardId: string): string {
    return `${this.namespace}:lb:${boardId}`;
  }
  private shardKeys(boardId: string, season: number, shard: number) {
    const tag = `${this.base(boardId)}:{${boardId}#${season}#${shard}}`;
    return { z: `${tag}:z`, m: `${tag}:m`, d: `${tag}:d`, t: `${tag}:t`, o: `${tag}:o`, dd: `${tag}:dd:` };
  }
  seasonPrefix(boardId: string, season: number): string {
    return `${this.base(boardId)}:{${boardId}#${season}#`;
  }

  /**
   * Applies writes in order (per shard, which is all order can mean: one player lives on one
   * shard); returns the outcome of each. One script call per shard and APPLY_CHUNK writes.
   */
  async apply(board: BoardRef, season: number, writes: ScoreWrite[]): Promise<ApplyOutcome[]> {
    if (writes.length === 0) return [];
    const byShard = new Map<number, number[]>();
    writes.forEach((w, i) => {
      const s = shardOf(w.playerId, board.shards);
      const list = byShard.get(s);
      if (list) list.push(i);
      else byShard.set(s, [i]);
    });
    const out: ApplyOutcome[] = new Array(writes.length);
    const calls: Promise<void>[] = [];
    for (const [shard, idx] of byShard) {
      const k = this.shardKeys(board.id, season, shard);
      for (let c = 0; c < idx.length; c += APPLY_CHUNK) {
        const part = idx.slice(c, c + APPLY_CHUNK);
        const keys = [k.z, k.m, k.d, k.t, k.o];
        const args: (string | number)[] = [board.updatePolicy, board.order, DEDUPE_TTL_MS];
        for (const i of part) {
          const w = writes[i];
          // Length-prefixed: (player `a`, id `b:c`) and (player `a:b`, id `c`) are different writes.
          keys.push(`${k.dd}${tupleKey(w.playerId, w.messageId)}`);
          // Only claimsId writes need a dedupe key: a redelivery is caught by its log position.
          const useKey = claimsId(w) ? '1' : '0';
          args.push(w.playerId, w.score, encodeMember(board.order, w.seq, w.playerId), w.metadata === undefined ? '' : JSON.stringify(w.metadata), w.seq, useKey, w.position ?? '');
        }
        calls.push(
          this.kv.runScript(APPLY_SCORES, keys, args).then((res) => {
            part.forEach((i, j) => (out[i] = res[j]));
          }),
        );
      }
    }
    await Promise.all(calls);
    return out;
  }

  async remove(board: BoardRef, season: number, playerId: string, seq: number): Promise<boolean> {
    const k = this.shardKeys(board.id, season, shardOf(playerId, board.shards));
    return this.kv.runScript(REMOVE_PLAYER, [k.z, k.m, k.d, k.t], [playerId, seq]);
  }

  async total(board: BoardRef, season: number): Promise<number> {
    const counts = await Promise.all(this.shardList(board).map((s) => this.reads.zCard(this.shardKeys(board.id, season, s).z)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private shardList(board: BoardRef): number[] {
    return Array.from({ length: board.shards }, (_, i) => i);
  }

  private async range(board: BoardRef, season: number, shard: number, start: number, stop: number, kv = this.reads): Promise<RankedEntry[]> {
    if (stop >= 0 && stop < start) return [];
    const rows = await kv.zRange(this.shardKeys(board.id, season, shard).z, start, stop, board.order);
    return rows.map((r) => ({ score: r.score, ...decodeMember(board.order, r.member) }));
  }

  /** Global entries at 0-based offsets [offset, offset+limit): k-way merge of each shard's head. */
  async top(board: BoardRef, season: number, offset: number, limit: number): Promise<StoredRankedEntry[]> {
    const k = offset + limit;
    const lists = await Promise.all(this.shardList(board).map((s) => this.range(board, season, s, 0, k - 1)));
    const merged = mergeTopK(board.order, lists, k).slice(offset);
    return this.withMetadata(board, season, merged.map((e, i) => ({ ...e, rank: offset + i + 1 })));
  }

  async all(board: BoardRef, season: number): Promise<StoredRankedEntry[]> {
    // From the primary: an archive must not miss the last writes a replica has not received yet.
    const lists = await Promise.all(this.shardList(board).map((s) => this.range(board, season, s, 0, -1, this.kv)));
    const n = lists.reduce((a, l) => a + l.length, 0);
    const merged = mergeTopK(board.order, lists, n);
    return this.withMetadata(board, season, merged.map((e, i) => ({ ...e, rank: i + 1 })), this.kv);
  }

  async withMetadata(board: BoardRef, season: number, entries: StoredRankedEntry[], kv = this.reads): Promise<StoredRankedEntry[]> {
    await Promise.all(
      entries.map(async (e) => {
        const raw = await kv.hGet(this.shardKeys(board.id, season, shardOf(e.playerId, board.shards)).d, e.playerId);
        if (raw !== null) e.metadata = JSON.parse(raw) as Record<string, unknown>;
      }),
    );
    return entries;
  }

  /**
   * A player's score, exact global rank, the board's size and (around >= 0) the `around` entries
   * above and below with metadata: one SHARD_VIEW script on the player's shard, then one on each
   * other shard in parallel (two round trips whatever the shard count; one on a 1-shard board).
   * Null when the player has no entry.
   */
  async view(board: BoardRef, season: number, playerId: string, around: number): Promise<PlayerView | null> {
    const own = shardOf(playerId, board.shards);
    const ownKeys = this.shardKeys(board.id, season, own);
    const mine = await this.reads.runScript(SHARD_VIEW, [ownKeys.z, ownKeys.d, ownKeys.m], [board.order, around, playerId, '', '']);
    if (!mine) return null;
    const views: ShardView[] = [mine];
    if (board.shards > 1) {
      const others = await Promise.all(
        this.shardList(board)
          .filter((s) => s !== own)
          .map((s) => {
            const k = this.shardKeys(board.id, season, s);
            return this.reads.runScript(SHARD_VIEW, [k.z, k.d, k.m], [board.order, around, '', mine.score, mine.member]);
          }),
      );
      for (const v of others) if (v) views.push(v);
    }
    const probe: RankedEntry = { score: mine.score, ...decodeMember(board.order, mine.member) };
    let better = 0;
    let total = 0;
    for (const v of views) {
      better += v.better;
      total += v.card;
    }
    const rank = better + 1;
    const result: PlayerView = { entry: { ...probe, rank }, total, neighbours: [] };
    if (around < 0) return result;
    // Merged on the encoded members, which sort as compareEntries does (score, then the member's
    // fixed-width seq and player id): only the 2·around + 1 entries kept are decoded, not every
    // shard's window (16 shards: ~160 entries per view, most of the route's garbage).
    const all: { score: number; member: string; meta: string | null }[] = [];
    for (const v of views) v.window.forEach((w, i) => all.push({ score: w.score, member: w.member, meta: v.metadata[i] }));
    if (!all.some((e) => e.member === mine.member)) all.push({ score: mine.score, member: mine.member, meta: null });
    const sign = board.order === 'desc' ? -1 : 1;
    all.sort((a, b) => sign * (a.score !== b.score ? a.score - b.score : a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    const at = all.findIndex((e) => e.member === mine.member);
    for (let i = Math.max(0, at - around); i <= Math.min(all.length - 1, at + around); i++) {
      const e: StoredRankedEntry = { score: all[i].score, ...decodeMember(board.order, all[i].member), rank: rank + (i - at) };
      if (all[i].meta !== null) e.metadata = JSON.parse(all[i].meta!) as Record<string, unknown>;
      if (i === at) result.entry.metadata = e.metadata;
      result.neighbours.push(i === at ? { ...result.entry } : e);
    }
    return result;
  }

  async dropSeason(boardId: string, season: number): Promise<void> {
    await this.kv.deleteByPrefix(this.seasonPrefix(boardId, season));
  }

  replicated(): Promise<void> {
    return this.kv.waitForReplicas();
  }
}
