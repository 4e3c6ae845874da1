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
});
