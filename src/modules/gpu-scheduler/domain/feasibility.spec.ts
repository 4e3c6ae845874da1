import { infeasibility } from './feasibility';

describe('infeasibility (422 at submit)', () => {
  const nodes = [
    { gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80 },
    { gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 40 },
    { gpuType: 'T4', gpuCount: 4, gpuMemoryGb: 16 },
  ];

  it('accepts a gang that fits across nodes of one type', () => {
    expect(infeasibility({ gpuType: 'A100', gpuCount: 16, gpuMemoryGb: 40 }, nodes)).toBeUndefined();
    expect(infeasibility({ gpuType: 'T4|A100', gpuCount: 12, gpuMemoryGb: 16 }, nodes)).toBeUndefined();
    expect(infeasibility({ gpuType: '*', gpuCount: 4, gpuMemoryGb: 10 }, nodes)).toBeUndefined();
  });

  it('names the reason when nothing could ever satisfy the request', () => {
    expect(infeasibility({ gpuType: 'H100', gpuCount: 1, gpuMemoryGb: 1 }, nodes)).toMatch(/unknown gpuType H100/);
    expect(infeasibility({ gpuType: 'A100', gpuCount: 9, gpuMemoryGb: 80 }, nodes)).toMatch(/at most 8 A100/);
    expect(infeasibility({ gpuType: 'T4', gpuCount: 1, gpuMemoryGb: 32 }, nodes)).toMatch(/largest: 16 GB/);
    // a gang never mixes types: 4 T4 + 16 A100 exist, but not 17 of one type
    expect(infeasibility({ gpuType: 'T4|A100', gpuCount: 17, gpuMemoryGb: 1 }, nodes)).toMatch(/at most 16/);
    expect(infeasibility({ gpuType: 'A100', gpuCount: 1, gpuMemoryGb: 1 }, [])).toMatch(/no GPU nodes/);
  });

  it('judges shares, CPU-only tasks, CPU/memory and single-node gangs against node capacities', () => {
    const sized = [
      { gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, cpuMilli: 64000, memoryMib: 262144 },
      { gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, cpuMilli: 64000, memoryMib: 262144 },
    ];
    expect(infeasibility({ gpuCount: 1, gpuMilli: 300, gpuMemoryGb: 0, cpuMilli: 8000 }, sized)).toBeUndefined();
    expect(infeasibility({ gpuCount: 0, gpuMemoryGb: 0, cpuMilli: 8000, memoryMib: 1024 }, sized)).toBeUndefined();
    expect(infeasibility({ gpuCount: 0, gpuMemoryGb: 0, cpuMilli: 96000 }, sized)).toMatch(/no node has 96000 milli CPU/);
    expect(infeasibility({ gpuCount: 2, gpuMilli: 500, gpuMemoryGb: 0 }, sized)).toMatch(/needs gpuCount 1/);
    expect(infeasibility({ gpuCount: 1, gpuMilli: 0, gpuMemoryGb: 0 }, sized)).toMatch(/gpuMilli must be/);
    expect(infeasibility({ gpuCount: 0, gpuMemoryGb: 0 }, sized)).toMatch(/needs GPUs, CPU or memory/);
    // 16 GPUs exist, but not on one node
    expect(infeasibility({ gpuCount: 16, gpuMemoryGb: 0 }, sized)).toBeUndefined();
    expect(infeasibility({ gpuCount: 16, gpuMemoryGb: 0, gangPlacement: 'single-node' }, sized)).toMatch(/no A100 node has 16 GPU/);
    // split over two nodes, each takes half of the CPU: 100000 fits as 2 x 50000, 130000 does not
    expect(infeasibility({ gpuCount: 16, gpuMemoryGb: 0, cpuMilli: 100000 }, sized)).toBeUndefined();
    expect(infeasibility({ gpuCount: 16, gpuMemoryGb: 0, cpuMilli: 130000 }, sized)).toMatch(/at most 14 A100/);
    // no node holds 8 GPUs with 65000 milli CPU, so the gang may split (4 + 4 takes 32500 per node)...
    expect(infeasibility({ gpuCount: 8, gpuMemoryGb: 0, cpuMilli: 65000 }, sized)).toBeUndefined();
    // ...unless it must stay on one node
    expect(infeasibility({ gpuCount: 8, gpuMemoryGb: 0, cpuMilli: 65000, gangPlacement: 'single-node' }, sized)).toMatch(/65000 milli CPU/);
  });
});
