import { OrderStatisticSet } from './order-statistic-set';

type E = { member: string; score: number };
const order = (a: E, b: E) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0);

describe('OrderStatisticSet', () => {
  it('matches a sorted array under random inserts, removals, ranks and counts', () => {
    // Seeded LCG so a failure reproduces.
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const set = new OrderStatisticSet();
    const model = new Map<string, number>();
    for (let step = 0; step < 4000; step++) {
      const member = `m${rnd(300)}`;
      const score = rnd(20) - 10; // few distinct scores: lots of ties
      if (model.has(member) && rnd(2) === 0) {
        expect(set.remove(model.get(member)!, member)).toBe(true);
        model.delete(member);
      } else if (!model.has(member)) {
        set.insert(score, member);
        model.set(member, score);
      }
      if (step % 97 === 0) {
        const sorted = [...model].map(([m, s]) => ({ member: m, score: s })).sort(order);
        expect(set.size).toBe(sorted.length);
        sorted.forEach((e, i) => {
          expect(set.rank(e.score, e.member)).toBe(i);
          expect(set.at(i)).toEqual(e);
        });
      }
    }
    expect(set.remove(99, 'absent')).toBe(false);
    expect(set.rank(99, 'absent')).toBeNull();
    expect(set.at(set.size)).toBeNull();
  });
});
