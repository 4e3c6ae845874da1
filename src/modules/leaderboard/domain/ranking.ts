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
