import { RunningTask } from './model';
import { ClusterView, placeGang, PlacementFailureMemo } from './placement';
import { endOrder } from './schedule-cycle';
import { DEFAULT_AGING, fullOrderStream } from './selection';
import { fullOrder, node, task } from '../../../../test/support/gpu-domain-fixtures';

/** Data structures added to make the simulator's cycles cheap; each must give the same answers as the plain way. */
describe('cycle speed-up structures', () => {
  it('PlacementFailureMemo: a failed class fails for every larger gang on a shrinking view, and only then', () => {
    const v = new ClusterView([node('a', 8, 'A100', [0, 1, 2]), node('b', 8, 'A100', [0]), node('h', 8, 'H100', [0, 1, 2, 3, 4], 16)]);
    const memo = new PlacementFailureMemo(v);
    // fewest-nodes: these gangs may split; the class key includes the gang placement
    const split = { gangPlacement: 'fewest-nodes' as const };
    const big = task('big', { gpuType: 'A100', gpuCount: 5, ...split });
    expect(placeGang(big, v)).toBeUndefined();
    memo.recordFailure(big);
    // same class, larger: known to fail, and placeGang agrees
    const bigger = task('bigger', { gpuType: 'A100', gpuCount: 8, ...split });
    expect(memo.knownToFail(bigger)).toBe(true);
    expect(placeGang(bigger, v)).toBeUndefined();
    // smaller gang, other type, other memory: not assumed
    expect(memo.knownToFail(task('s', { gpuType: 'A100', gpuCount: 4, ...split }))).toBe(false);
    expect(placeGang(task('s', { gpuType: 'A100', gpuCount: 4, ...split }), v)).toBeDefined();
    expect(memo.knownToFail(task('h', { gpuType: 'H100', gpuCount: 5, ...split }))).toBe(false);
    expect(memo.knownToFail(task('m', { gpuType: 'A100', gpuCount: 5, gpuMemoryGb: 40, ...split }))).toBe(false);
    // the same gang kept on one node is another class (it fails for other reasons)
    expect(memo.knownToFail(task('one', { gpuType: 'A100', gpuCount: 6 }))).toBe(false);
    // any-type aliases share one class
    memo.recordFailure(task('any', { gpuCount: 6 }));
    expect(memo.knownToFail(task('any2', { gpuType: '*', gpuCount: 7 }))).toBe(true);
    expect(placeGang(task('any2', { gpuType: '*', gpuCount: 7 }), v)).toBeUndefined();
  });

  it('endOrder pops running tasks exactly in stable-sort order of predictedEndAt', () => {
    let s = 42;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const running: RunningTask[] = [...Array(300).keys()].map((i) => ({
      task: task(`r${i}`),
      startedAt: 0,
      allocations: [],
      predictedEndAt: Math.floor(rnd() * 40), // many ties
    }));
    const expected = [...running].sort((a, b) => a.predictedEndAt - b.predictedEndAt).map((r) => r.task.id);
    const q = endOrder(running);
    const got: string[] = [];
    while (q.size > 0) {
      const peeked = q.peek();
      const popped = q.pop();
      expect(popped).toBe(peeked);
      got.push(running[popped!].task.id);
    }
    expect(got).toEqual(expected);
    expect(endOrder([]).size).toBe(0);
  });

  it('fullOrderStream yields fullOrder one task at a time and predicts only what was read', () => {
    const queue = [...Array(40).keys()].map((i) => task(`t${i}`, { tier: i % 3 ? 'normal' : 'vip', submittedAt: i * 7, gpuCount: 1 + (i % 4) }));
    const q = { windowSec: 3600, vipShare: 0.8 };
    const charge = (t: ReturnType<typeof task>) => 100 + t.gpuCount;
    const all = fullOrder(queue, 300, { vip: 10, normal: 90 }, q, { ...DEFAULT_AGING, maxAgeSec: 150 }, charge).map((t) => t.id);
    let charged = 0;
    const next = fullOrderStream(queue, 300, { vip: 10, normal: 90 }, q, { ...DEFAULT_AGING, maxAgeSec: 150 }, (t) => (charged++, charge(t)));
    const firstFive = [next(), next(), next(), next(), next()].map((t) => t!.id);
    expect(firstFive).toEqual(all.slice(0, 5));
    expect(charged).toBeLessThanOrEqual(5);
    const rest: string[] = [];
    for (let t = next(); t !== undefined; t = next()) rest.push(t.id);
    expect([...firstFive, ...rest]).toEqual(all);
    expect(next()).toBeUndefined();
  });
});
