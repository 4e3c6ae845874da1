import { bestFit, fragmentationAware, GpuNode, takeOnNode, Task, totalGpuMilliOf, workloadShapes, worstFit } from '../domain';
import { inflatedArrivals, inflationRun } from './inflation';
import { main, parseArgs, policiesOf, scorersOf, seedsOf, UsageError } from './simulate';
import { parseNodeSpec } from './trace';

const pods: Task[] = [
  ...Array.from({ length: 30 }, (_, i): Task => ({ id: `s${i}`, userId: 'u', tier: 'normal', gpuCount: 1, gpuMilli: 250 + 50 * (i % 10), gpuMemoryGb: 0, cpuMilli: 2000, memoryMib: 4096, submittedAt: 0 })),
  ...Array.from({ length: 10 }, (_, i): Task => ({ id: `w${i}`, userId: 'u', tier: 'vip', gpuCount: 1 + (i % 4), gpuMemoryGb: 0, cpuMilli: 8000, memoryMib: 8192, submittedAt: 0 })),
  ...Array.from({ length: 5 }, (_, i): Task => ({ id: `c${i}`, userId: 'u', tier: 'normal', gpuCount: 0, gpuMemoryGb: 0, cpuMilli: 4000, memoryMib: 1024, submittedAt: 0 })),
];
const nodes: GpuNode[] = parseNodeSpec('6x8:A100,4x2:T4').map((n) => ({ ...n, cpuMilli: 96000, memoryMib: 393216 }));
const capacity = 56 * 1000;

describe("the FGD paper's inflation method", () => {
  it('arrivals: a seeded shuffle of the trace plus clones, up to the ratio of GPU capacity and not over it', () => {
    const a = inflatedArrivals(pods, capacity, 1.3, 42);
    const total = a.reduce((s, p) => s + totalGpuMilliOf(p), 0);
    // as the paper's: stops at the first clone whose milli on one GPU would overshoot, so the last one
    // appended (at most 4 GPUs here) may end up to 3 GPUs over the target
    expect(total).toBeLessThanOrEqual(1.3 * capacity + 3000);
    expect(total).toBeGreaterThan(1.3 * capacity - 1000);
    expect(a.slice(0, pods.length).map((p) => p.id).sort()).toEqual(pods.map((p) => p.id).sort());
    expect(inflatedArrivals(pods, capacity, 1.3, 42)).toEqual(a);
    expect(inflatedArrivals(pods, capacity, 1.3, 43)).not.toEqual(a);
  });

  it.each([
    ['worst-fit', worstFit],
    ['best-fit', bestFit],
    ['fragmentation-aware', fragmentationAware(workloadShapes(pods))],
  ] as const)('%s: placements are valid, the allocation ratio is in 0..1 and below the arrived load', (_n, scorer) => {
    const records = new Map(nodes.map((n) => [n.id, { ...n, freeGpuIndices: [...n.freeGpuIndices] }]));
    const r = inflationRun(nodes, pods, {
      ratio: 1.3,
      seed: 7,
      scorer,
      onPod: (_p, _i, allocs) => allocs?.forEach((x) => takeOnNode(records.get(x.nodeId)!, x)), // throws on over-allocation
    });
    expect(r.allocationRatio).toBeGreaterThan(0.5);
    expect(r.allocationRatio).toBeLessThanOrEqual(1);
    expect(r.finalAllocationRatio).toBeLessThanOrEqual(r.arrivedRatio);
    expect(r.placed + r.failed).toBe(r.pods);
    expect(r.curve).toHaveLength(131);
  });
});

describe('simulator command line', () => {
  it('rejects unknown options, missing values, unknown policies and scorers with a clear message', () => {
    expect(() => parseArgs(['--polcy', 'full'])).toThrow(new UsageError('unknown option --polcy'));
    expect(() => parseArgs(['--policy'])).toThrow(/--policy needs a value/);
    expect(() => parseArgs(['full'])).toThrow(/unexpected argument "full"/);
    expect(() => policiesOf('fulll')).toThrow(/unknown policy "fulll"/);
    expect(() => scorersOf('first-fit', [])).toThrow(/unknown scorer "first-fit"/);
    expect(seedsOf('42-44')).toEqual([42, 43, 44]);
    expect(() => seedsOf('x')).toThrow(/bad --seeds/);
    expect(parseArgs(['--inflate', '1.3', '--no-departures', '--json']).get('inflate')).toBe('1.3');
  });

  it('--help prints the options and succeeds; --json prints per-policy summaries with allocationRatio', () => {
    const out: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(main(['--help'])).toBe(0);
      expect(out.join('\n')).toMatch(/--inflate R/);
      out.length = 0;
      expect(main(['--trace', 'synthetic:200', '--nodes', '2x8:A100', '--inflate', '1.3', '--seeds', '1-2', '--scorer', 'all', '--json'])).toBe(0);
      const doc = JSON.parse(out.join('\n'));
      expect(doc.runs).toHaveLength(8);
      for (const r of doc.runs) {
        expect(r.allocationRatio).toBeGreaterThan(0);
        expect(r.allocationRatio).toBeLessThanOrEqual(1);
      }
      expect(Object.keys(doc.summary).sort()).toEqual(['best-fit', 'fgd-paper', 'fragmentation-aware', 'worst-fit']);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
  });
});
