import { simulate, SimOptions } from './engine';
import { checkInvariants } from '../../../../test/support/gpu-domain-fixtures';
import { parseNodeSpec, syntheticTrace, SimTask } from './trace';
import { formatResult } from './simulate';

/** simulate(), plus each task's start time (from the onStart observer). */
function run(nodes: Parameters<typeof simulate>[0], tasks: SimTask[], opts: SimOptions) {
  const startedAt = new Map<string, number>();
  return { ...simulate(nodes, tasks, { ...opts, onStart: (task, start) => startedAt.set(task.id, start) }), startedAt };
}

describe('simulator on a synthetic trace', () => {
  const nodes = parseNodeSpec('6x8:A100');
  const tasks = syntheticTrace({ count: 400, seed: 7, meanInterArrivalSec: 30, meanRuntimeSec: 900 });

  it.each(['fifo', 'strict-priority', 'full'] as const)('%s: no GPU over-allocated at any time, every task finishes', (policy) => {
    const r = run(nodes, tasks, { policy, afterCycle: checkInvariants });
    expect(r.finished).toBe(tasks.length);
    expect(r.unscheduled).toBe(0);
    expect(r.gpuUtilization).toBeGreaterThan(0);
    expect(r.gpuUtilization).toBeLessThanOrEqual(1);
    expect(r.wait.vip.count + r.wait.normal.count).toBe(tasks.length);
    for (const t of tasks) expect(r.startedAt.get(t.id)!).toBeGreaterThanOrEqual(t.submittedAt);
    expect(formatResult(r)).toContain('GPU utilization');
  });

  it.each(['fifo', 'strict-priority', 'full'] as const)('%s: skipping cycles where nothing fits changes no start time', (policy) => {
    const busy = syntheticTrace({ count: 400, seed: 11, meanInterArrivalSec: 10, meanRuntimeSec: 900, runtimeDist: 'lognormal' });
    const every = run(nodes, busy, { policy, skipHopelessCycles: false });
    const skipping = run(nodes, busy, { policy });
    expect(skipping.skippedCycles).toBeGreaterThan(0);
    expect(every.skippedCycles).toBe(0);
    expect(skipping.cycles + skipping.skippedCycles).toBe(every.cycles);
    expect([...skipping.startedAt]).toEqual([...every.startedAt]);
  });

  it('full policy backfills and does not lose to fifo on mean wait', () => {
    const fifo = simulate(nodes, tasks, { policy: 'fifo' });
    const full = simulate(nodes, tasks, { policy: 'full' });
    expect(full.backfilled).toBeGreaterThan(0);
    const mean = (r: typeof fifo) => (r.wait.vip.meanWait * r.wait.vip.count + r.wait.normal.meanWait * r.wait.normal.count) / r.tasks;
    expect(mean(full)).toBeLessThan(mean(fifo));
  });

  it('aging bounds a normal task wait under a VIP flood (vipShare 100%): wait <= maxAge + max runtime', () => {
    const R = 100;
    const maxAgeSec = 1000;
    const flood: SimTask[] = [{ id: 'normal', userId: 'n', tier: 'normal', gpuCount: 1, gpuMemoryGb: 0, submittedAt: 0, runtimeSec: R, model: 'm' }];
    // one GPU, a VIP arrives every 50 s with runtime 100 s: VIP demand alone is twice the capacity
    for (let i = 0; i < 200; i++) flood.push({ id: `v${i}`, userId: 'v', tier: 'vip', gpuCount: 1, gpuMemoryGb: 0, submittedAt: 1 + 50 * i, runtimeSec: R, model: 'm' });
    // keep the GPU busy when the normal task arrives
    flood.unshift({ id: 'v-first', userId: 'v', tier: 'vip', gpuCount: 1, gpuMemoryGb: 0, submittedAt: -1, runtimeSec: R, model: 'm' });
    const one = parseNodeSpec('1x1:A100');
    const quota = { windowSec: 3600, vipShare: 1 };
    const aging = { maxAgeSec };
    const starved = run(one, flood, { policy: 'full', quota, aging: { ...aging, maxAgeSec: 1e12 }, defaultRuntimeSec: R });
    const aged = run(one, flood, { policy: 'full', quota, aging, defaultRuntimeSec: R });
    const waitStarved = starved.startedAt.get('normal')!;
    const waitAged = aged.startedAt.get('normal')!;
    expect(waitStarved).toBeGreaterThan(10_000); // without aging it waits for the whole VIP flood
    expect(waitAged).toBeLessThanOrEqual(maxAgeSec + R);
  });
});
