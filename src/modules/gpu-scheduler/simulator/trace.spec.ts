import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadNodesCsv, loadTraceCsv, parseNodeSpec, syntheticTrace } from './trace';

describe('trace loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-trace-'));
  const pods = join(dir, 'pods.csv');
  writeFileSync(
    pods,
    [
      'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time',
      'p0,1,1,1,460,,LS,Running,10,500,20',
      'p1,1,1,0,0,,BE,Running,10,500,20',
      'p2,1,1,8,1000,V100M16|V100M32,BE,Failed,5,100,50',
      'p3,1,1,1,1000,,Burstable,Pending,7,90,',
      'p4,1,1,2,1000,,Guaranteed,Succeeded,1,2,1',
    ].join('\n'),
  );

  it('maps tiers and runtimes, keeps shares, CPU, memory, CPU-only pods and gpu_spec; replay skips never-scheduled pods', () => {
    const { tasks, pods: all, stats } = loadTraceCsv(pods);
    expect(stats).toEqual({ rows: 5, cpuOnly: 1, fractional: 1, skippedNeverScheduled: 1 });
    expect(tasks.map((t) => [t.id, t.tier, t.gpuCount, t.gpuMilli, t.runtimeSec, t.submittedAt, t.gpuType])).toEqual([
      ['p4', 'vip', 2, undefined, 1, 1, undefined],
      ['p2', 'normal', 8, undefined, 50, 5, 'V100M16|V100M32'],
      ['p0', 'vip', 1, 460, 480, 10, undefined],
      ['p1', 'normal', 0, undefined, 480, 10, undefined],
    ]);
    expect(tasks.find((t) => t.id === 'p1')).toMatchObject({ cpuMilli: 1, memoryMib: 1 });
    // every row, in file order, for the paper's inflation method
    expect(all.map((t) => t.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it('parses node CSV and node specs', () => {
    const nodesCsv = join(dir, 'nodes.csv');
    writeFileSync(nodesCsv, 'sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,1,1,8,G2\n');
    expect(loadNodesCsv(nodesCsv).map((n) => [n.id, n.gpuType, n.gpuCount, n.gpuMemoryGb, n.freeGpuIndices.length, n.cpuMilli, n.memoryMib])).toEqual([
      ['n0', 'P100', 2, 16, 2, 64000, 262144],
      ['n1', 'G2', 8, 80, 8, 1, 1],
    ]);
    expect(parseNodeSpec('2x8:A100,1x4:T4').map((n) => `${n.gpuType}/${n.gpuCount}`)).toEqual(['A100/8', 'A100/8', 'T4/4']);
    expect(() => parseNodeSpec('lots')).toThrow(/bad node spec/);
  });

  it('synthetic traces are deterministic per seed', () => {
    expect(syntheticTrace({ count: 50, seed: 3 })).toEqual(syntheticTrace({ count: 50, seed: 3 }));
    expect(syntheticTrace({ count: 50, seed: 3 })).not.toEqual(syntheticTrace({ count: 50, seed: 4 }));
  });

  it('lognormal runtimes are heavy-tailed, capped, and keep the requested mean roughly', () => {
    const ts = syntheticTrace({ count: 20000, seed: 5, runtimeDist: 'lognormal', meanRuntimeSec: 1000, maxRuntimeSec: 50_000, diurnalAmplitude: 0.5 });
    const rts = ts.map((t) => t.runtimeSec).sort((a, b) => a - b);
    const mean = rts.reduce((a, b) => a + b, 0) / rts.length;
    expect(rts[rts.length - 1]).toBeLessThanOrEqual(50_000);
    expect(rts[rts.length >> 1]).toBeLessThan(mean / 2); // median far below the mean: heavy tail
    expect(mean).toBeGreaterThan(1000); // model factor 1..2 on top of meanRuntimeSec
    expect(mean).toBeLessThan(2000);
    expect(new Set(ts.map((t) => t.gpuCount))).toEqual(new Set([1, 2, 4, 8]));
  });
});
