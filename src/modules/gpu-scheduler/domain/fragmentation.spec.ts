import { ClusterView, placeGang, bestFit, worstFit, NodeScorer } from './placement';
import { fragmentationAware, nodeFragmentation, workloadShapes } from './fragmentation';
import { scheduleCycle } from './schedule-cycle';
import { GpuNode, Task } from './model';
import { node, task } from '../../../../test/support/gpu-domain-fixtures';

describe('fragmentation-aware placement (FGD, Weng et al. ATC 23)', () => {
  it('workloadShapes groups tasks by shape, keeps the popular ones covering 95%, weights sum to 1', () => {
    const tasks: Task[] = [
      ...Array.from({ length: 60 }, (_, i) => task(`a${i}`, { gpuMilli: 500, cpuMilli: 4000 })),
      ...Array.from({ length: 38 }, (_, i) => task(`b${i}`, { gpuCount: 8 })),
      task('rare', { gpuCount: 2 }),
      task('rare2', { gpuCount: 3 }),
      task('cpu', { gpuCount: 0, cpuMilli: 1000 }),
    ];
    expect(workloadShapes(tasks).map((s) => [s.gpuCount, s.gpuMilli, s.weight])).toEqual([
      [1, 500, 60 / 98],
      [8, 1000, 38 / 98],
    ]);
    // CPU-only tasks are a shape of their own (as in the paper's simulator)
    const cpuHeavy = [...tasks, ...Array.from({ length: 30 }, (_, i) => task(`c${i}`, { gpuCount: 0, cpuMilli: 1000 }))];
    expect(workloadShapes(cpuHeavy).map((s) => [s.gpuCount, s.gpuMilli])).toEqual([[1, 500], [8, 1000], [0, 0]]);
  });

  it('the paper score: equal integer scores go to the node listed first, whatever its GPU type', () => {
    // two empty nodes of different types; a 1-GPU task: the same gradient on both
    const nodes = [node('t4-b', 4, 'T4'), node('a100-a', 4, 'A100'), node('t4-c', 4, 'T4')];
    const fgd = fragmentationAware(workloadShapes([task('one', { gpuCount: 1 })]), { score: 'paper' });
    expect(placeGang(task('x', { gpuCount: 1 }), new ClusterView(nodes), fgd)![0].nodeId).toBe('t4-b');
    expect(placeGang(task('x', { gpuCount: 1 }), new ClusterView([nodes[1], nodes[0], nodes[2]]), fgd)![0].nodeId).toBe('a100-a');
  });

  it('balanced ties: first in node order unless that strands GPUs for want of CPU; CPU-only work where the GPUs are used up', () => {
    const shapes = workloadShapes([task('one', { cpuMilli: 8000 }), task('cpu', { gpuCount: 0, cpuMilli: 8000 })]);
    const tight = { ...node('tight', 8), cpuMilli: 16000 };
    const roomy = { ...node('roomy', 8), cpuMilli: 96000 };
    const x = task('x', { cpuMilli: 8000 });
    // both keep every shape placeable (the same integer score); on `tight` 6 GPUs would be left with no CPU to feed them
    expect(placeGang(x, new ClusterView([tight, roomy]), fragmentationAware(shapes, { score: 'paper' }))![0].nodeId).toBe('tight');
    expect(placeGang(x, new ClusterView([tight, roomy]), fragmentationAware(shapes))![0].nodeId).toBe('roomy');
    const full = { ...node('full', 8, 'A100', []), gpuUsedMilli: Array(8).fill(1000), cpuMilli: 96000 };
    expect(placeGang(task('c', { gpuCount: 0, cpuMilli: 8000 }), new ClusterView([roomy, full]), fragmentationAware(shapes))![0].nodeId).toBe('full');
  });

  it('nodeFragmentation: free milli a shape cannot use, all of it when the shape cannot fit', () => {
    const shapes = [
      { gpuCount: 1, gpuMilli: 600, cpuMilli: 0, memoryMib: 0, weight: 0.5 },
      { gpuCount: 2, gpuMilli: 1000, cpuMilli: 0, memoryMib: 0, weight: 0.5 },
    ];
    // free per GPU 1000, 1000, 300: the 600 share wastes 300; the 2-GPU task wastes 300
    expect(nodeFragmentation({ gpuType: 'A', free: [1000, 1000, 300], cpu: Infinity, mem: Infinity }, shapes)).toBeCloseTo(300);
    // free 1000, 300: the 2-GPU task cannot fit: all 1300 is fragment for it; the share wastes 300
    expect(nodeFragmentation({ gpuType: 'A', free: [1000, 300], cpu: Infinity, mem: Infinity }, shapes)).toBeCloseTo(0.5 * 300 + 0.5 * 1300);
    // a type-bound shape on another type: everything is fragment
    expect(nodeFragmentation({ gpuType: 'A', free: [1000], cpu: 1, mem: 1 }, [{ ...shapes[0], gpuTypes: ['B'], weight: 1 }])).toBe(1000);
    // a CPU-only shape can use no GPU milli: all of it is fragment for it
    expect(nodeFragmentation({ gpuType: 'A', free: [1000, 300], cpu: Infinity, mem: Infinity }, [{ gpuCount: 0, gpuMilli: 0, cpuMilli: 1000, memoryMib: 0, weight: 1 }])).toBe(1300);
  });

  it('puts a share where it breaks no whole GPU that whole-GPU tasks need', () => {
    // node a: GPU 0 half used; node b: empty. 8-GPU tasks are popular: a share belongs on a's GPU 0
    const nodes: GpuNode[] = [{ ...node('a', 8), freeGpuIndices: [1, 2, 3, 4, 5, 6, 7], gpuUsedMilli: [500, 0, 0, 0, 0, 0, 0, 0] }, node('b', 8)];
    const shapes = workloadShapes([...Array.from({ length: 5 }, (_, i) => task(`g${i}`, { gpuCount: 8 })), task('s', { gpuMilli: 400 })]);
    const fgd = fragmentationAware(shapes);
    // (on a, which GPU is the shares' own trade-off: 400 on GPU 0 would strand 100 milli no 400 share can use)
    expect(placeGang(task('share', { gpuMilli: 400 }), new ClusterView(nodes), fgd)![0].nodeId).toBe('a');
    // worst-fit opens the empty node instead, which then can no longer take an 8-GPU task
    expect(placeGang(task('share', { gpuMilli: 400 }), new ClusterView(nodes), worstFit)![0].nodeId).toBe('b');
  });

  // Issue 12: worst-fit split all 8 gangs of 8 GPUs on 8 x 8 nodes (best-fit: 2).
  it.each([
    ['worst-fit', worstFit],
    ['best-fit', bestFit],
    ['fragmentation-aware', fragmentationAware(workloadShapes([task('g', { gpuCount: 8 }), task('o', { gpuCount: 1 })]))],
  ] as [string, NodeScorer][])('8 gangs of 8 GPUs on 8 x 8 nodes: none split by default (%s)', (_name, scorer) => {
    const nodes = Array.from({ length: 8 }, (_, i) => node(`n${i}`, 8));
    // some single-GPU tasks arrive first and spread (worst-fit) over the nodes; the gangs must then wait
    // for whole nodes rather than split
    const ones = Array.from({ length: 8 }, (_, i) => task(`one${i}`, { submittedAt: i }));
    const gangs = Array.from({ length: 8 }, (_, i) => task(`gang${i}`, { gpuCount: 8, submittedAt: 100 + i }));
    const r = scheduleCycle({ nodes, queue: [...ones, ...gangs], running: [] }, 200, { policy: 'fifo', predictRuntime: () => 100, scorer });
    for (const d of r.decisions) expect(d.allocations).toHaveLength(1);
    // with no single-GPU tasks in the way all eight start, one node each
    const clean = scheduleCycle({ nodes, queue: gangs, running: [] }, 200, { policy: 'full', predictRuntime: () => 100, scorer });
    expect(clean.decisions).toHaveLength(8);
    expect(new Set(clean.decisions.map((d) => d.allocations[0].nodeId)).size).toBe(8);
    for (const d of clean.decisions) expect(d.allocations).toHaveLength(1);
  });
});
