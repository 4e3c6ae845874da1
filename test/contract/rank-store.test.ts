import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { InProcessRankStore } from '../../src/modules/leaderboard/adapters/in-process-rank-store';
import { RedisRankStore } from '../../src/modules/leaderboard/adapters/redis-rank-store';
import { compareEntries, RankedEntry, ScoreWrite, SortOrder, UpdatePolicy } from '../../src/modules/leaderboard/domain';
import { BoardRef, RankStore, StoredRankedEntry } from '../../src/modules/leaderboard/ports/rank-store.port';
import { DurableKeyValueStore } from '../../src/platform/kv/durable-key-value-store';
import { hashSlot } from '../../src/platform/kv/hash-slot';
import { KeyValueStore } from '../../src/platform/kv/key-value-store.port';
import { MemoryKeyValueStore } from '../../src/platform/kv/memory-key-value-store';
import { RedisKeyValueStore } from '../../src/platform/kv/redis-key-value-store';
import { createRedisClient } from '../support/redis';
import { seededRandom } from '../../src/platform/random/seeded-random';
import { tempDataDir } from '../support/temp-dir';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Subject {
  store: RankStore;
  kv: KeyValueStore & { close(): Promise<void> };
  namespace: string;
}

/** One contract, both RankStore adapters: the Lua scripts on a real Redis and the domain rules in process. */
const adapters: [string, () => Subject][] = [
  [
    'in-process',
    () => {
      const namespace = `rs-${randomUUID().slice(0, 8)}`;
      const kv = new MemoryKeyValueStore();
      return { store: new InProcessRankStore(kv, namespace), kv, namespace };
    },
  ],
  [
    'redis',
    () => {
      const namespace = `rs-${randomUUID().slice(0, 8)}`;
      const kv = new RedisKeyValueStore(createRedisClient(REDIS_URL));
      return { store: new RedisRankStore(kv, namespace), kv, namespace };
    },
  ],
];

const board = (over: Partial<BoardRef> = {}): BoardRef => ({ id: `b-${randomUUID().slice(0, 8)}`, order: 'desc', updatePolicy: 'overwrite', shards: 1, ...over });
let n = 0;
/** A write from the log (own position per call unless given). */
const w = (playerId: string, score: number, over: Partial<ScoreWrite> = {}): ScoreWrite => {
  n++;
  return { playerId, score, messageId: `m${n}`, seq: 1000 + n, position: `0:${n}`, ...over };
};
const standings = (entries: StoredRankedEntry[]) => entries.map((e) => [e.rank, e.playerId, e.score]);

describe.each(adapters)('RankStore contract: %s', (_name, open) => {
  let sut: RankStore;
  let subject: Subject;

  beforeEach(() => {
    subject = open();
    sut = subject.store;
  });
  afterEach(async () => {
    await subject.kv.deleteByPrefix(`${subject.namespace}:`);
    await subject.kv.close();
  });

  it.each([
    ['overwrite', 'desc', [10, 5, 7], 7],
    ['best', 'desc', [10, 5, 12, 11], 12],
    ['best', 'asc', [10, 5, 12], 5],
    ['increment', 'desc', [10, -3, 5], 12],
  ] as [UpdatePolicy, SortOrder, number[], number][])('%s on a %s board', async (updatePolicy, order, scores, final) => {
    const b = board({ updatePolicy, order });
    for (const s of scores) expect(await sut.apply(b, 1, [w('p', s)])).toEqual(['applied']);
    expect((await sut.view(b, 1, 'p', 0))?.entry).toMatchObject({ playerId: 'p', score: final, rank: 1 });
  });

  it('ranks equal scores by who reached them first; re-sending a score keeps its place', async () => {
    for (const order of ['desc', 'asc'] as const) {
      const b = board({ order, updatePolicy: 'overwrite' });
      await sut.apply(b, 1, [w('late', 5, { seq: 30 }), w('early', 5, { seq: 10 }), w('mid', 5, { seq: 20 })]);
      await sut.apply(b, 1, [w('early', 5, { seq: 40 })]); // same score again: keeps seq 10
      expect((await sut.top(b, 1, 0, 10)).map((e) => e.playerId)).toEqual(['early', 'mid', 'late']);
      await sut.apply(b, 1, [w('early', 6, { seq: 50 }), w('early', 5, { seq: 60 })]); // left and came back: now last
      expect((await sut.top(b, 1, 0, 10)).map((e) => e.playerId)).toEqual(['mid', 'late', 'early']);
    }
  });

  it('applies a redelivered log position once, whatever its message id; another partition is a new write', async () => {
    const b = board({ updatePolicy: 'increment' });
    expect(await sut.apply(b, 1, [w('p', 5, { position: '2:7' }), w('p', 1, { position: '2:8' })])).toEqual(['applied', 'applied']);
    expect(await sut.apply(b, 1, [w('p', 5, { position: '2:7' }), w('p', 1, { position: '2:8' }), w('p', 3, { position: '2:9' })])).toEqual(['duplicate', 'duplicate', 'applied']);
    expect(await sut.apply(b, 1, [w('p', 1, { position: '3:1' })])).toEqual(['applied']);
    expect((await sut.view(b, 1, 'p', -1))?.entry.score).toBe(10);
  });

  it('dedupes a caller-chosen id across log positions, per player, and a write without a position by its id', async () => {
    const b = board({ updatePolicy: 'increment' });
    expect(await sut.apply(b, 1, [w('p', 5, { messageId: 'k', keyed: true }), w('p', 5, { messageId: 'k', keyed: true })])).toEqual(['applied', 'duplicate']);
    expect(await sut.apply(b, 1, [w('q', 5, { messageId: 'k', keyed: true })])).toEqual(['applied']);
    expect(await sut.apply(b, 1, [w('r', 1, { messageId: 'x', position: undefined }), w('r', 1, { messageId: 'x', position: undefined })])).toEqual(['applied', 'duplicate']);
    // Length-prefixed pairs: (player `a`, id `b:c`) and (player `a:b`, id `c`) are two writes.
    expect(await sut.apply(b, 1, [w('a', 1, { messageId: 'b:c', keyed: true }), w('a:b', 1, { messageId: 'c', keyed: true })])).toEqual(['applied', 'applied']);
    expect(await sut.total(b, 1)).toBe(5);
  });

  it('a DELETE drops the entry and the writes accepted before it; a later write starts from nothing', async () => {
    const b = board({ updatePolicy: 'increment' });
    await sut.apply(b, 1, [w('p', 5, { seq: 10 }), w('q', 1, { seq: 11 })]);
    expect(await sut.remove(b, 1, 'p', 20)).toBe(true);
    expect(await sut.remove(b, 1, 'p', 21)).toBe(false);
    expect(await sut.view(b, 1, 'p', 1)).toBeNull();
    expect(await sut.apply(b, 1, [w('p', 7, { seq: 21 }), w('p', 2, { seq: 22 })])).toEqual(['stale', 'applied']);
    expect((await sut.view(b, 1, 'p', -1))?.entry.score).toBe(2);
    // A DELETE of a player with no entry yet still tombstones the write queued before it.
    expect(await sut.remove(b, 1, 'z', 30)).toBe(false);
    expect(await sut.apply(b, 1, [w('z', 1, { seq: 29 })])).toEqual(['stale']);
  });

  it('rejects an increment that would leave the safe-integer range and keeps the score', async () => {
    const b = board({ updatePolicy: 'increment' });
    await sut.apply(b, 1, [w('p', Number.MAX_SAFE_INTEGER)]);
    expect(await sut.apply(b, 1, [w('p', 1)])).toEqual(['rejected']);
    expect((await sut.view(b, 1, 'p', -1))?.entry.score).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('keeps metadata with the score that came with it (best), replaces it on overwrite', async () => {
    const best = board({ updatePolicy: 'best' });
    await sut.apply(best, 1, [w('p', 10, { metadata: { run: 1 } }), w('p', 5, { metadata: { run: 2 } })]);
    expect((await sut.view(best, 1, 'p', 0))?.entry.metadata).toEqual({ run: 1 });
    const over = board();
    await sut.apply(over, 1, [w('p', 10, { metadata: { run: 1 } }), w('p', 10, { metadata: { run: 2 } }), w('q', 3)]);
    expect((await sut.top(over, 1, 0, 5)).map((e) => e.metadata)).toEqual([{ run: 2 }, undefined]);
  });

  it.each([
    ['desc', 5],
    ['asc', 3],
  ] as [SortOrder, number][])('a %s board on %i shards equals one shard and the domain order: top, ranks, neighbours, total', async (order, shards) => {
    const r = seededRandom(shards);
    const writes = Array.from({ length: 400 }, (_, i) => w(`p${i % 150}`, Math.floor(r() * 20), { seq: Math.floor(r() * 50) + 1 }));
    const one = board({ order, updatePolicy: 'best' });
    const many = { ...one, id: `${one.id}-s`, shards };
    await sut.apply(one, 1, writes);
    await sut.apply(many, 1, writes);
    const expected = [...(await sut.all(one, 1))].sort((a, b) => compareEntries(order, a as RankedEntry, b as RankedEntry));
    expect(expected.map((e, i) => e.rank - i)).toEqual(expected.map(() => 1));
    expect(standings(await sut.all(many, 1))).toEqual(standings(expected));
    expect(standings(await sut.top(many, 1, 40, 25))).toEqual(standings(expected.slice(40, 65)));
    expect(await sut.total(many, 1)).toBe(150);
    for (const probe of ['p0', 'p17', 'p149', expected[0].playerId, expected[149].playerId]) {
      const at = expected.findIndex((e) => e.playerId === probe);
      const view = await sut.view(many, 1, probe, 3);
      expect(view?.entry.rank).toBe(at + 1);
      expect(view?.total).toBe(150);
      expect(standings(view!.neighbours)).toEqual(standings(expected.slice(Math.max(0, at - 3), at + 4)));
      expect((await sut.view(many, 1, probe, -1))?.neighbours).toEqual([]);
    }
    expect(await sut.view(many, 1, 'nobody', 3)).toBeNull();
  });

  it('keeps seasons apart and drops one', async () => {
    const b = board({ shards: 2 });
    await sut.apply(b, 1, [w('a', 1), w('b', 3)]);
    await sut.apply(b, 2, [w('c', 9)]);
    expect(standings(await sut.top(b, 1, 0, 10))).toEqual([
      [1, 'b', 3],
      [2, 'a', 1],
    ]);
    await sut.dropSeason(b.id, 1);
    expect(await sut.total(b, 1)).toBe(0);
    expect(await sut.top(b, 1, 0, 10)).toEqual([]);
    expect(standings(await sut.all(b, 2))).toEqual([[1, 'c', 9]]);
    await expect(sut.replicated()).resolves.toBeUndefined();
  });
});

describe('RankStore: in-process on the durable key/value store', () => {
  it('a restart loads the standings, tombstones, log positions and claimed ids back', async () => {
    const dir = tempDataDir();
    try {
      const b = board({ updatePolicy: 'increment' });
      let kv = await DurableKeyValueStore.open(join(dir.path, 'kv.log'));
      let sut = new InProcessRankStore(kv, 'ns');
      await sut.apply(b, 1, [w('p', 5, { position: '0:1', metadata: { a: 1 } }), w('q', 2, { position: '0:2', messageId: 'k', keyed: true }), w('r', 1)]);
      await sut.remove(b, 1, 'r', 10_000);
      await kv.close();
      kv = await DurableKeyValueStore.open(join(dir.path, 'kv.log'));
      sut = new InProcessRankStore(kv, 'ns');
      expect(await sut.apply(b, 1, [w('p', 5, { position: '0:1' }), w('q', 2, { position: '0:3', messageId: 'k', keyed: true }), w('r', 1, { seq: 9_999 })])).toEqual(['duplicate', 'duplicate', 'stale']);
      expect((await sut.top(b, 1, 0, 10)).map((e) => [e.playerId, e.score, e.metadata])).toEqual([
        ['p', 5, { a: 1 }],
        ['q', 2, undefined],
      ]);
      await kv.close();
    } finally {
      dir.remove();
    }
  });
});

describe('RankStore: Redis keys on a Redis Cluster', () => {
  /** The slot ranges `redis-cli --cluster create` gives three primaries (scripts/cluster.sh). */
  const PRIMARIES = [
    { name: 'primary-1', from: 0, to: 5460 },
    { name: 'primary-2', from: 5461, to: 10922 },
    { name: 'primary-3', from: 10923, to: 16383 },
  ];
  const ownerOf = (slot: number) => PRIMARIES.find((p) => slot >= p.from && slot <= p.to)!.name;

  it('spreads a 16-shard board over the three primaries, one slot per shard', () => {
    const store = new RedisRankStore(new MemoryKeyValueStore(), 'ns');
    const perPrimary = new Map<string, number>();
    const slots = new Set<number>();
    for (let s = 0; s < 16; s++) {
      const slot = hashSlot(`${store.seasonPrefix('b-1', 1)}${s}}:z`); // a shard's keys share its {board#season#shard} tag
      slots.add(slot);
      perPrimary.set(ownerOf(slot), (perPrimary.get(ownerOf(slot)) ?? 0) + 1);
    }
    // Each script call is checked for one slot by the key/value store (the redis suite above runs them all).
    expect(slots.size).toBe(16);
    expect([...perPrimary.keys()].sort()).toEqual(['primary-1', 'primary-2', 'primary-3']);
    expect(Math.min(...perPrimary.values())).toBeGreaterThanOrEqual(3);
  });
});
