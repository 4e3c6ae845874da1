import { simulate } from './engine';
import { checkInvariants } from '../../../../test/support/gpu-domain-fixtures';
import { parseNodeSpec, SimTask, syntheticTrace } from './trace';

/**
 * EASY backfill must not delay the blocked head: its start minus the first reservation it got (the slip)
 * is <= 0 when runtime predictions are exact, and no more than the prediction error when they are not.
 * The head order must be stable for "the head" to mean one task throughout: everything is submitted at
 * t = 0 in one tier, aging off.
 */
describe('backfill head slip', () => {
  const nodes = parseNodeSpec('3x8:A100');
  const aging = { maxAgeSec: 1e12 };
  const workload = (seed: number): SimTask[] =>
    syntheticTrace({ count: 150, seed, meanRuntimeSec: 900, runtimeDist: 'lognormal', vipFraction: 0 }).map((t) => ({ ...t, submittedAt: 0 }));

  it.each([1, 2, 3, 4, 5, 6])('exact predictions: no head starts after its first reservation (seed %i)', (seed) => {
    const tasks = workload(seed);
    const r = simulate(nodes, tasks, { policy: 'full', aging, predict: (t) => t.runtimeSec, afterCycle: checkInvariants });
    expect(r.finished).toBe(tasks.length);
    expect(r.backfilled).toBeGreaterThan(0);
    expect(r.headSlip.count).toBeGreaterThan(0);
    expect(r.headSlip.maxSec).toBeLessThanOrEqual(0);
  });

  it.each([1, 2, 3, 4, 5, 6])('predictions off by up to E: the head slips no more than E (seed %i)', (seed) => {
    const E = 300;
    const tasks = workload(seed);
    // a deterministic error in [-E, E] per task
    const err = new Map(tasks.map((t, i) => [t.id, (((i * 7919 + seed * 104729) % 1000) / 1000) * 2 * E - E]));
    const r = simulate(nodes, tasks, { policy: 'full', aging, predict: (t) => Math.max(1, t.runtimeSec + err.get(t.id)!) });
    expect(r.finished).toBe(tasks.length);
    expect(r.headSlip.count).toBeGreaterThan(0);
    expect(r.headSlip.maxSec).toBeLessThanOrEqual(E);
  });
});
