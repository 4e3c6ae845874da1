import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  discoverGpus,
  gpuTypeOf,
  parseNvidiaSmi,
  parseSimulatedGpus,
  pickInventory,
  sampleUtilization,
} from './gpu-discovery';

// Real nvidia-smi output shapes (A100 SXM4 80GB box; H100 reports 81559 MiB; "[N/A]" on some SKUs).
const A100_BOX = ['0, NVIDIA A100-SXM4-80GB, 81920, 37', '1, NVIDIA A100-SXM4-80GB, 81920, 0', '2, NVIDIA A100-SXM4-80GB, 81920, 100', ''].join('\n');

describe('parseNvidiaSmi', () => {
  it('parses index, name, MiB and utilization per line', () => {
    expect(parseNvidiaSmi(A100_BOX)).toEqual([
      { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, utilization: 37 },
      { index: 1, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, utilization: 0 },
      { index: 2, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, utilization: 100 },
    ]);
  });

  it('tolerates CRLF and unsupported utilization', () => {
    expect(parseNvidiaSmi('0, Tesla T4, 15360, [N/A]\r\n1, Tesla T4, 15360, [Not Supported]\r\n')).toEqual([
      { index: 0, name: 'Tesla T4', memoryMiB: 15360, utilization: undefined },
      { index: 1, name: 'Tesla T4', memoryMiB: 15360, utilization: undefined },
    ]);
  });

  it('rejects malformed lines instead of under-reporting the node', () => {
    expect(() => parseNvidiaSmi('0, NVIDIA H100, 81559')).toThrow(/4 columns/);
    expect(() => parseNvidiaSmi('x, NVIDIA H100, 81559, 3')).toThrow(/cannot parse/);
    expect(() => parseNvidiaSmi('0, NVIDIA H100, lots, 3')).toThrow(/cannot parse/);
  });
});

describe('gpuTypeOf', () => {
  it.each([
    ['NVIDIA A100-SXM4-80GB', 'A100'],
    ['NVIDIA A100 80GB PCIe', 'A100'],
    ['NVIDIA H100 80GB HBM3', 'H100'],
    ['Tesla V100-SXM2-16GB', 'V100'],
    ['Tesla T4', 'T4'],
    ['NVIDIA GeForce RTX 4090', 'RTX4090'],
    ['NVIDIA RTX A6000', 'RTXA6000'],
    ['NVIDIA L40S', 'L40S'],
  ])('%s → %s', (name, type) => expect(gpuTypeOf(name)).toBe(type));
});

describe('pickInventory', () => {
  it('rounds MiB to whole GB and keeps nvidia-smi indices', () => {
    const inv = pickInventory(parseNvidiaSmi('0, NVIDIA H100 80GB HBM3, 81559, 0\n1, NVIDIA H100 80GB HBM3, 81559, 0'));
    expect(inv).toEqual({ gpuType: 'H100', gpuMemoryGb: 80, physicalIndices: [0, 1], simulated: false });
  });

  it('offers the most numerous type of a mixed box, mapping slots to its device indices', () => {
    const inv = pickInventory(
      parseNvidiaSmi('0, NVIDIA GeForce RTX 4090, 24564, 1\n1, NVIDIA A100-PCIE-40GB, 40960, 0\n2, NVIDIA A100-PCIE-40GB, 40536, 0'),
    );
    expect(inv.gpuType).toBe('A100');
    expect(inv.physicalIndices).toEqual([1, 2]);
    expect(inv.gpuMemoryGb).toBe(40); // the smaller of the two, rounded
  });

  it('honours a type override and refuses an empty list', () => {
    expect(pickInventory(parseNvidiaSmi(A100_BOX), 'A100-80G').gpuType).toBe('A100-80G');
    expect(() => pickInventory([])).toThrow(/no GPUs/);
  });
});

describe('parseSimulatedGpus', () => {
  it('reads <type>x<count>:<memoryGb>', () => {
    expect(parseSimulatedGpus('A100x4:80')).toEqual({ gpuType: 'A100', gpuMemoryGb: 80, physicalIndices: [0, 1, 2, 3], simulated: true });
    expect(parseSimulatedGpus('L4x1:23.5').gpuMemoryGb).toBe(23.5);
  });

  it.each(['A100x0:80', 'A100:80', 'x8:80', 'A100x8', 'A100 x8:80'])('rejects %s', (spec) => {
    expect(() => parseSimulatedGpus(spec)).toThrow(/A100x8:80/);
  });
});

/** A fake nvidia-smi first on PATH: the discovery path is exercised exactly as on a GPU machine. */
describe('discoverGpus with a fake nvidia-smi on PATH', () => {
  let dir: string;
  const envWith = (script?: string) => {
    if (script !== undefined) {
      writeFileSync(join(dir, 'nvidia-smi'), script);
      chmodSync(join(dir, 'nvidia-smi'), 0o755);
    }
    // Only the temp dir (and /bin for sh) on PATH, so a real nvidia-smi elsewhere cannot interfere.
    return { ...process.env, PATH: [dir, '/bin'].join(delimiter) };
  };

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'fake-smi-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses real GPUs when nvidia-smi answers, with the exact query arguments', async () => {
    const env = envWith(
      [
        '#!/bin/sh',
        `echo "$@" > "${dir}/args"`,
        'echo "0, NVIDIA A100-SXM4-80GB, 81920, 12"',
        'echo "1, NVIDIA A100-SXM4-80GB, 81920, 97"',
      ].join('\n'),
    );
    const inv = await discoverGpus({ simulatedSpec: 'T4x1:16', env });
    expect(inv).toEqual({ gpuType: 'A100', gpuMemoryGb: 80, physicalIndices: [0, 1], simulated: false });
    expect(readFileSync(join(dir, 'args'), 'utf8').trim()).toBe(
      '--query-gpu=index,name,memory.total,utilization.gpu --format=csv,noheader,nounits',
    );
    expect(await sampleUtilization(inv, env)).toEqual([12, 97]);
  });

  it('falls back to the simulated spec when there is no nvidia-smi', async () => {
    const inv = await discoverGpus({ simulatedSpec: 'T4x2:16', gpuTypeOverride: 'T4-sim', env: envWith() });
    expect(inv).toEqual({ gpuType: 'T4-sim', gpuMemoryGb: 16, physicalIndices: [0, 1], simulated: true });
    expect(await sampleUtilization(inv, envWith())).toBeUndefined();
  });

  it('refuses to start with neither GPUs nor a simulated spec', async () => {
    await expect(discoverGpus({ simulatedSpec: '', env: envWith() })).rejects.toThrow(/GPU_AGENT_SIMULATED_GPUS/);
  });

  it('does not pretend when nvidia-smi exists but fails (driver not loaded)', async () => {
    const env = envWith('#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2\nexit 9\n');
    await expect(discoverGpus({ simulatedSpec: 'A100x8:80', env })).rejects.toThrow(/nvidia-smi failed.*NVIDIA driver/);
  });
});
