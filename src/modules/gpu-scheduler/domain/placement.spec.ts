import { bestFit, ClusterView, placeGang, worstFit } from './placement';
import { node, task } from '../../../../test/support/gpu-domain-fixtures';

describe('filter + score + gang placement', () => {
  const nodes = [node('n1', 8, 'A100', [0, 1, 2]), node('n2', 8, 'A100', [0, 1, 2, 3, 4, 5]), node('n3', 8, 'H100')];

  it('filters out non-ACTIVE nodes, wrong type and too little GPU memory', () => {
    const ns = [{ ...node('d', 8), status: 'DRAINING' as const }, node('small', 8, 'A100', undefined, 16), node('h', 8, 'H100')];
    const v = new ClusterView(ns);
    expect(placeGang(task('t', { gpuType: 'A100', gpuMemoryGb: 40 }), v)).toBeUndefined();
    expect(placeGang(task('t', { gpuType: 'H100', gpuMemoryGb: 40 }), v)).toEqual([{ nodeId: 'h', gpuIndices: [0] }]);
  });

  it('worst-fit picks the emptiest node, best-fit the fullest that fits', () => {
    const t = task('t', { gpuType: 'A100', gpuCount: 2 });
    expect(placeGang(t, new ClusterView(nodes), worstFit)![0].nodeId).toBe('n2');
    expect(placeGang(t, new ClusterView(nodes), bestFit)![0].nodeId).toBe('n1');
  });

  it('gang (fewest-nodes): one node when it fits, else fewest nodes of one type, never partial', () => {
    const split = { gangPlacement: 'fewest-nodes' as const };
    expect(placeGang(task('t', { gpuType: 'A100', gpuCount: 6, ...split }), new ClusterView(nodes))).toEqual([
      { nodeId: 'n2', gpuIndices: [0, 1, 2, 3, 4, 5] },
    ]);
    const multi = placeGang(task('t', { gpuType: 'A100', gpuCount: 8, ...split }), new ClusterView(nodes))!;
    expect(multi.map((a) => a.nodeId)).toEqual(['n2', 'n1']);
    expect(multi.reduce((s, a) => s + a.gpuIndices.length, 0)).toBe(8);
    expect(placeGang(task('t', { gpuType: 'A100', gpuCount: 10, ...split }), new ClusterView(nodes))).toBeUndefined();
    // any type: 8 fits whole on the H100 node -> one node
    expect(placeGang(task('t', { gpuCount: 8 }), new ClusterView(nodes))).toEqual([
      { nodeId: 'n3', gpuIndices: [0, 1, 2, 3, 4, 5, 6, 7] },
    ]);
  });

  it('gang (default): stays on one node when some node could ever hold it, splits only when none could', () => {
    // an 8-GPU A100 node exists (n1, n2 have 8), so the 8-GPU gang waits instead of splitting
    expect(placeGang(task('t', { gpuType: 'A100', gpuCount: 8 }), new ClusterView(nodes))).toBeUndefined();
    expect(placeGang(task('t', { gpuType: 'A100', gpuCount: 8, gangPlacement: 'single-node' }), new ClusterView(nodes))).toBeUndefined();
    // no node has 9 GPUs: a 9-GPU gang may split (fewest nodes)
    const nine = placeGang(task('t', { gpuType: 'A100', gpuCount: 9 }), new ClusterView(nodes))!;
    expect(nine.map((a) => a.gpuIndices.length)).toEqual([6, 3]);
    // a DRAINING 8-GPU node still counts as one that could hold it (it comes back)
    const small = [node('a', 4), node('b', 4), { ...node('big', 8), status: 'DRAINING' as const }];
    expect(placeGang(task('t', { gpuCount: 8 }), new ClusterView(small))).toBeUndefined();
    expect(placeGang(task('t', { gpuCount: 8 }), new ClusterView(small.slice(0, 2)))!.length).toBe(2);
  });

  it('ClusterView.take refuses to over-allocate', () => {
    const v = new ClusterView(nodes);
    v.take([{ nodeId: 'n1', gpuIndices: [0] }]);
    expect(() => v.take([{ nodeId: 'n1', gpuIndices: [0] }])).toThrow(/not free/);
    expect(nodes[0].freeGpuIndices).toEqual([0, 1, 2]); // input untouched
  });
});
