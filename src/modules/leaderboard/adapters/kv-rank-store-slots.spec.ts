import { hashSlot } from '../../../platform/kv/hash-slot';
import { MemoryKeyValueStore } from '../../../platform/kv/memory-key-value-store';
import { BoardRef, KvRankStore } from './kv-rank-store';

/** The slot ranges `redis-cli --cluster create` gives three primaries (scripts/cluster.sh). */
const PRIMARIES = [
  { name: 'primary-1', from: 0, to: 5460 },
  { name: 'primary-2', from: 5461, to: 10922 },
  { name: 'primary-3', from: 10923, to: 16383 },
];
const ownerOf = (slot: number) => PRIMARIES.find((p) => slot >= p.from && slot <= p.to)!.name;

describe('leaderboard keys on a Redis Cluster', () => {
  const board: BoardRef = { id: 'b-1', order: 'desc', updatePolicy: 'best', shards: 16 };

  it('every rank-store script keeps its keys in one slot (the embedded store checks each call)', async () => {
    const kv = new MemoryKeyValueStore();
    try {
      const store = new KvRankStore(kv, 'ns');
      const writes = Array.from({ length: 64 }, (_, i) => ({
        playerId: `p${i}`,
        score: i % 7,
        messageId: `m${i}`,
        seq: i + 1,
        keyed: i % 2 === 0,
        position: i % 2 === 0 ? undefined : `0:${i}`,
        metadata: { i },
      }));
      expect(new Set(await store.apply(board, 1, writes))).toEqual(new Set(['applied']));
      const view = await store.view(board, 1, 'p10', 3);
      expect(view?.total).toBe(64);
      expect(await store.remove(board, 1, 'p10', 1000)).toBe(true);
      expect((await store.top(board, 1, 0, 10)).length).toBe(10);
    } finally {
      kv.close();
    }
  });

  it('spreads a 16-shard board over the three primaries', () => {
    const store = new KvRankStore(new MemoryKeyValueStore(), 'ns');
    const perPrimary = new Map<string, number>();
    const slots = new Set<number>();
    for (let s = 0; s < board.shards; s++) {
      const slot = hashSlot(store.shardKey(board.id, 1, s));
      slots.add(slot);
      perPrimary.set(ownerOf(slot), (perPrimary.get(ownerOf(slot)) ?? 0) + 1);
    }
    // One slot per shard, and no primary left without shards (the figures go to docs/leaderboard.md).
    expect(slots.size).toBe(16);
    expect([...perPrimary.keys()].sort()).toEqual(['primary-1', 'primary-2', 'primary-3']);
    expect([...perPrimary.values()].reduce((a, b) => a + b, 0)).toBe(16);
    expect(Math.min(...perPrimary.values())).toBeGreaterThanOrEqual(3);
  });
});
