import { SortOrder } from './board-config';

/** One leaderboard entry: `seq` is when the player reached `score` (smaller = earlier). */
export interface RankedEntry {
  playerId: string;
  score: number;
  seq: number;
}

/**
 * Total order of the board: better score first; equal scores: earlier seq first; equal seq:
 * playerId ascending on asc boards, descending on desc boards (matches the Redis member encoding).
 * Negative when `a` ranks above `b`.
 */
export function compareEntries(order: SortOrder, a: RankedEntry, b: RankedEntry): number {
  if (a.score !== b.score) return order === 'desc' ? b.score - a.score : a.score - b.score;
  if (a.seq !== b.seq) return a.seq - b.seq;
  if (a.playerId === b.playerId) return 0;
  const asc = a.playerId < b.playerId ? -1 : 1;
  return order === 'desc' ? -asc : asc;
}

/** Stable shard choice: FNV-1a 32-bit over the UTF-8 bytes of the player id, modulo shards. */
export function shardOf(playerId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(playerId, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/**
 * Exact global rank (1-based) from per-shard counts of entries strictly better than the player
 * (better score, or equal score and earlier). A player lives in exactly one shard (shardOf):
 * - own shard: ZREVRANK (desc) / ZRANK (asc) of the player's member is that count;
 * - other shards: the count the player would have there. Because the member encoding makes Redis
 *   order equal board order, a read-only count does it exactly: ZCOUNT of strictly better scores
 *   plus the tied members that sort before the player's member (binary search over the ties'
 *   ranks; see SHARD_VIEW). Read-only, so it may run on a replica.
 */
export function globalRank(strictlyBetterPerShard: readonly number[]): number {
  let sum = 0;
  for (const c of strictlyBetterPerShard) {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`invalid per-shard count ${c}`);
    sum += c;
  }
  return 1 + sum;
}

/** Count of entries in a board-sorted array strictly better than `probe` (binary search). */
export function countStrictlyBetter(order: SortOrder, sorted: readonly RankedEntry[], probe: RankedEntry): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(order, sorted[mid], probe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * k-way merge of per-shard top lists (each already in board order, each at least k long or the
 * whole shard) into the global top k. Binary heap over list heads: O(k log shards).
 */
export function mergeTopK(order: SortOrder, lists: readonly (readonly RankedEntry[])[], k: number): RankedEntry[] {
  if (!Number.isInteger(k) || k < 0) throw new RangeError('k must be a non-negative integer');
  type Head = { list: number; index: number };
  const heap: Head[] = [];
  const entry = (h: Head): RankedEntry => lists[h.list][h.index];
  const less = (a: Head, b: Head): boolean => compareEntries(order, entry(a), entry(b)) < 0;
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) return;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  lists.forEach((list, i) => {
    if (list.length > 0) {
      heap.push({ list: i, index: 0 });
      up(heap.length - 1);
    }
  });
  const out: RankedEntry[] = [];
  while (out.length < k && heap.length > 0) {
    const top = heap[0];
    out.push(entry(top));
    if (top.index + 1 < lists[top.list].length) {
      heap[0] = { list: top.list, index: top.index + 1 };
    } else {
      const last = heap.pop() as Head;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    down(0);
  }
  return out;
}

/**
 * Percentile of a rank: the share of the other players this player ranks above, 0..100.
 * Rank 1 → 100, last → 0; a single player is at 100.
 */
export function percentile(rank: number, total: number): number {
  if (!Number.isInteger(total) || total < 1) throw new RangeError('total must be a positive integer');
  if (!Number.isInteger(rank) || rank < 1 || rank > total) throw new RangeError(`rank must be in 1..${total}`);
  if (total === 1) return 100;
  return (100 * (total - rank)) / (total - 1);
}

/** "Top X%": rank / total * 100 (rank 1 of 100 → 1). */
export function topPercent(rank: number, total: number): number {
  percentile(rank, total);
  return (100 * rank) / total;
}

export interface RankWindow {
  /** 0-based inclusive start/stop offsets for ZRANGE/ZREVRANGE, and 1-based ranks. */
  start: number;
  stop: number;
  firstRank: number;
  lastRank: number;
}

/**
 * Neighbours window: up to `around` entries above and below `rank`, clipped at both edges (no
 * shifting: near the top there are fewer entries above). Returns null for an empty board.
 */
export function neighboursWindow(rank: number, total: number, around: number): RankWindow | null {
  if (!Number.isInteger(around) || around < 0) throw new RangeError('around must be a non-negative integer');
  if (total === 0) return null;
  percentile(rank, total);
  const firstRank = Math.max(1, rank - around);
  const lastRank = Math.min(total, rank + around);
  return { start: firstRank - 1, stop: lastRank - 1, firstRank, lastRank };
}
