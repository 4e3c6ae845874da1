import { GpuNode, MILLI_PER_GPU, releaseOnNode, takeOnNode, Task, usedMilliOf } from './model';
import { bestFit, ClusterView, NodeScorer, placeGang, worstFit } from './placement';
import { node, task } from '../../../../test/support/gpu-domain-fixtures';

const sized = (id: string, gpus = 8, cpuMilli = 64000, memoryMib = 262144): GpuNode => ({ ...node(id, gpus), cpuMilli, memoryMib });

describe('GPU sharing: milli per GPU, CPU and memory capacities', () => {
  it('places a share on one GPU and packs shares onto the same GPU under best-fit', () => {
    const v = new ClusterView([sized('a', 2)]);
    const first = placeGang(task('s1', { gpuMilli: 600 }), v, bestFit)!;
    expect(first).toEqual([{ nodeId: 'a', gpuIndices: [0], gpuMilli: 600 }]);
    v.take(first);
    // 400 fits beside the 600 on GPU 0: best-fit fills it rather than opening GPU 1
    const second = placeGang(task('s2', { gpuMilli: 400 }), v, bestFit)!;
    expect(second[0].gpuIndices).toEqual([0]);
    v.take(second);
    // worst-fit puts a share on the emptiest GPU
    expect(placeGang(task('s3', { gpuMilli: 100 }), v, worstFit)![0].gpuIndices).toEqual([1]);
    // GPU 0 is full, GPU 1 free: a whole-GPU task gets GPU 1, a 2-GPU task nothing
    expect(placeGang(task('w', { gpuCount: 1 }), v)![0].gpuIndices).toEqual([1]);
    expect(placeGang(task('w2', { gpuCount: 2 }), v)).toBeUndefined();
    expect(() => v.take([{ nodeId: 'a', gpuIndices: [0], gpuMilli: 1 }])).toThrow(/not free/);
  });

  it('places CPU-only tasks without GPUs and respects CPU and memory capacity', () => {
    const v = new ClusterView([sized('a', 1, 4000, 1000), sized('b', 1, 8000, 1000)]);
    const cpuOnly = placeGang(task('c', { gpuCount: 0, cpuMilli: 6000, memoryMib: 500 }), v)!;
    expect(cpuOnly).toEqual([{ nodeId: 'b', gpuIndices: [], cpuMilli: 6000, memoryMib: 500 }]);
    v.take(cpuOnly);
    // b has 2000 CPU left: a GPU task asking 3000 must go to a, one asking 5000 fits nowhere
    expect(placeGang(task('g', { cpuMilli: 3000 }), v)![0].nodeId).toBe('a');
    expect(placeGang(task('g', { cpuMilli: 5000 }), v)).toBeUndefined();
    expect(placeGang(task('m', { memoryMib: 600 }), v)![0].nodeId).toBe('a');
    expect(placeGang(task('m', { gpuCount: 0, memoryMib: 1001 }), v)).toBeUndefined();
  });

  it('takeOnNode / releaseOnNode keep a node record exact and refuse over-allocation', () => {
    const n = sized('a', 2, 1000, 100);
    takeOnNode(n, { nodeId: 'a', gpuIndices: [1], gpuMilli: 700, cpuMilli: 500 });
    expect(n.freeGpuIndices).toEqual([0]);
    expect(n.gpuUsedMilli).toEqual([0, 700]);
    expect(() => takeOnNode(n, { nodeId: 'a', gpuIndices: [1], gpuMilli: 301 })).toThrow(/not free/);
    expect(() => takeOnNode(n, { nodeId: 'a', gpuIndices: [0], cpuMilli: 501 })).toThrow(/CPU over capacity/);
    expect(n.gpuUsedMilli).toEqual([0, 700]); // a refused take changes nothing
    releaseOnNode(n, { nodeId: 'a', gpuIndices: [1], gpuMilli: 700, cpuMilli: 500 });
    expect(n.freeGpuIndices.sort()).toEqual([0, 1]);
    expect(() => releaseOnNode(n, { nodeId: 'a', gpuIndices: [1], gpuMilli: 700 })).toThrow(/freed twice/);
  });

  // Property: whatever the mix of shares, whole GPUs, CPU-only tasks and scorer, greedy placement on a
  // view never puts more than 1000 milli on a GPU nor more CPU/memory on a node than it has.
  it.each([['worst-fit', worstFit], ['best-fit', bestFit]] as [string, NodeScorer][])('fractional packing never exceeds a GPU or a node (%s)', (_name, scorer) => {
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let round = 0; round < 40; round++) {
      const nodes = [...Array(1 + Math.floor(rnd() * 5)).keys()].map((i) => sized(`n${i}`, 1 + Math.floor(rnd() * 8), 4000 + Math.floor(rnd() * 60000), 8192 + Math.floor(rnd() * 65536)));
      const records = nodes.map((n) => ({ ...n, freeGpuIndices: [...n.freeGpuIndices] }));
      const byId = new Map(records.map((n) => [n.id, n]));
      const v = new ClusterView(nodes);
      for (let i = 0; i < 120; i++) {
        const kind = rnd();
        const t: Task = task(`t${i}`, {
          gpuCount: kind < 0.15 ? 0 : kind < 0.6 ? 1 : 1 + Math.floor(rnd() * 4),
          cpuMilli: Math.floor(rnd() * 8000),
          memoryMib: Math.floor(rnd() * 16384),
        });
        if (kind >= 0.15 && kind < 0.6) t.gpuMilli = 1 + Math.floor(rnd() * 999);
        if (t.gpuCount === 0 && !t.cpuMilli) t.cpuMilli = 1;
        const allocs = placeGang(t, v, scorer);
        if (!allocs) continue;
        v.take(allocs);
        for (const a of allocs) takeOnNode(byId.get(a.nodeId)!, a); // throws if anything went over
      }
      for (const n of records) {
        for (const u of usedMilliOf(n)) expect(u).toBeLessThanOrEqual(MILLI_PER_GPU);
        expect(n.cpuUsedMilli ?? 0).toBeLessThanOrEqual(n.cpuMilli!);
        expect(n.memoryUsedMib ?? 0).toBeLessThanOrEqual(n.memoryMib!);
        // the view and the records agree
        expect(v.byId.get(n.id)!.used).toEqual(usedMilliOf(n));
      }
    }
  });
});
