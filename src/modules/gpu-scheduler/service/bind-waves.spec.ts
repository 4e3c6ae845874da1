import { Decision } from '../domain';
import { nodeDisjointWaves } from './scheduler.service';

const d = (taskId: string, ...nodes: string[]): Decision => ({
  taskId,
  allocations: nodes.map((nodeId) => ({ nodeId, gpuIndices: [0] })),
  backfilled: false,
  predictedEndAt: 0,
});

describe('nodeDisjointWaves', () => {
  it('never puts two decisions on one node in the same wave, and keeps per-node order', () => {
    const ds = [d('a', 'n1'), d('b', 'n2'), d('c', 'n1', 'n3'), d('e', 'n3'), d('f', 'n4'), d('g', 'n1')];
    const waves = nodeDisjointWaves(ds, 16);
    expect(waves.map((w) => w.map((x) => x.taskId))).toEqual([['a', 'b', 'f'], ['c'], ['e', 'g']]);
    for (const w of waves) {
      const nodes = w.flatMap((x) => x.allocations.map((a) => a.nodeId));
      expect(new Set(nodes).size).toBe(nodes.length);
    }
  });

  it('caps the width of a wave', () => {
    const waves = nodeDisjointWaves(['1', '2', '3', '4', '5'].map((n) => d(n, `n${n}`)), 2);
    expect(waves.map((w) => w.length)).toEqual([2, 2, 1]);
  });
});
