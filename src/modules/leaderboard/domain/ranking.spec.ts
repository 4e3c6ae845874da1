import { seededRandom } from '../../../platform/random/seeded-random';
import { compareEntries, mergeTopK, percentile, RankedEntry, shardOf } from './ranking';
import { decodeMember, encodeMember } from './member-encoding';
import { SortOrder } from './board-config';


describe(compareEntries.name, () => {
  const sut = compareEntries;
  const e = (playerId: string, score: number, seq: number): RankedEntry => ({ playerId, score, seq });

  it('better score first, then earlier seq', () => {
    expect(sut('desc', e('a', 10, 5), e('b', 9, 1))).toBeLessThan(0);
    expect(sut('asc', e('a', 9, 5), e('b', 10, 1))).toBeLessThan(0);
    expect(sut('desc', e('a', 10, 1), e('b', 10, 2))).toBeLessThan(0);
    expect(sut('asc', e('a', 10, 1), e('b', 10, 2))).toBeLessThan(0);
    expect(sut('asc', e('a', 1, 1), e('a', 1, 1))).toBe(0);
  });

  it.each(['asc', 'desc'] as const)('matches Redis order of the member encoding (%s)', (order) => {
    const r = seededRandom(7);
    const entries = Array.from({ length: 2000 }, (_, i) => e(`p${i}`, Math.floor(r() * 20), Math.floor(r() * 50)));
    const ours = [...entries].sort((a, b) => sut(order, a, b)).map((x) => x.playerId);
    // Redis: by score ascending, then member bytes ascending; ZREVRANGE reverses both.
    const redis = entries
      .map((x) => ({ score: x.score, member: encodeMember(order, x.seq, x.playerId) }))
      .sort((a, b) => a.score - b.score || Buffer.compare(Buffer.from(a.member), Buffer.from(b.member)));
    if (order === 'desc') redis.reverse();
    expect(redis.map((x) => decodeMember(order, x.member).playerId)).toEqual(ours);
  });
});

describe(shardOf.name, () => {
  const sut = shardOf;
  it('is stable and in range', () => {
    expect(sut('player-1', 16)).toBe(sut('player-1', 16));
    expect(sut('anything', 1)).toBe(0);
    // FNV-1a 32 of "a" is 0xe40c292c
    expect(sut('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    for (let i = 0; i < 1000; i++) {
      const s = sut(`p${i}`, 7);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(7);
    }
  });
  it('spreads players roughly evenly', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16000; i++) counts[sut(`player-${i}`, 16)]++;
    for (const c of counts) expect(c).toBeGreaterThan(700);
  });
  it('rejects bad shard counts', () => {
    expect(() => sut('p', 0)).toThrow(RangeError);
  });
});

describe('sharded board equals single board (10,000 random players)', () => {
  it.each([
    ['desc', 16],
    ['asc', 7],
    ['desc', 1],
  ] as [SortOrder, number][])('%s board, %i shards', (order, shards) => {
    const r = seededRandom(shards * 31 + order.length);
    const players: RankedEntry[] = Array.from({ length: 10_000 }, (_, i) => ({
      playerId: `player-${i}`,
      score: Math.floor(r() * 500) - 100, // many ties
      seq: Math.floor(r() * 3000), // some equal seqs as well
    }));
    const cmp = (a: RankedEntry, b: RankedEntry): number => compareEntries(order, a, b);
    const single = [...players].sort(cmp);
    const shardLists: RankedEntry[][] = Array.from({ length: shards }, () => []);
    for (const p of players) shardLists[shardOf(p.playerId, shards)].push(p);
    for (const s of shardLists) s.sort(cmp);


    // top-K merge of per-shard top-K
    for (const k of [0, 1, 10, 100, 1000, 20_000]) {
      const merged = mergeTopK(order, shardLists.map((s) => s.slice(0, k)), k);
      expect(merged).toEqual(single.slice(0, k));
    }
  });
});

describe(mergeTopK.name, () => {
  it('handles empty lists and rejects bad k', () => {
    expect(mergeTopK('desc', [[], []], 5)).toEqual([]);
    expect(() => mergeTopK('desc', [], -1)).toThrow(RangeError);
  });
});

describe(percentile.name, () => {
  const sut = percentile;
  it('maps rank to 0..100', () => {
    expect(sut(1, 1)).toBe(100);
    expect(sut(1, 101)).toBe(100);
    expect(sut(101, 101)).toBe(0);
    expect(sut(51, 101)).toBe(50);
  });
  it('rejects out-of-range ranks', () => {
    expect(() => sut(0, 10)).toThrow(RangeError);
    expect(() => sut(11, 10)).toThrow(RangeError);
    expect(() => sut(1, 0)).toThrow(RangeError);
  });
});
