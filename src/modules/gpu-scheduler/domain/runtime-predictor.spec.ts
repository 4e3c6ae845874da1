import { RuntimePredictor } from './runtime-predictor';
import { task } from '../../../../test/support/gpu-domain-fixtures';

describe('RuntimePredictor', () => {
  it('uses median of similar finished tasks, then the estimate, then the default', () => {
    const p = new RuntimePredictor({ defaultRuntimeSec: 999 });
    const t = task('a', { model: 'llama', gpuCount: 2, estimatedRuntimeSec: 50 });
    expect(p.predict(task('x'))).toBe(999);
    expect(p.predict(t)).toBe(50);
    p.observe(t, 100);
    p.observe(t, 300);
    p.observe(t, 200);
    p.observe(task('b', { model: 'llama', gpuCount: 4 }), 10_000); // different gpuCount: not similar
    expect(p.predict(t)).toBe(200);
  });

  it('tracks prediction error', () => {
    const p = new RuntimePredictor();
    p.observe(task('a'), 100, 150);
    p.observe(task('b'), 100, 50);
    const e = p.errorStats();
    expect(e.samples).toBe(2);
    expect(e.meanAbsErrorSec).toBe(50);
    expect(e.meanAbsPctError).toBeCloseTo(0.5);
    expect(e.underPredictedFraction).toBe(0.5);
  });

  it('takes the median of an even number of runtimes as the mean of the middle two', () => {
    const p = new RuntimePredictor();
    const t = task('a', { model: 'llama' });
    for (const s of [4, 1, 2, 3]) p.observe(t, s);
    expect(p.predict(t)).toBe(2.5);
  });
});
