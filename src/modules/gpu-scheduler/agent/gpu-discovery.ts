import { execFile } from 'node:child_process';

/** One GPU as nvidia-smi reports it. `index` is nvidia-smi's (PCI bus order). */
export interface GpuInfo {
  index: number;
  name: string;
  memoryMiB: number;
  /** 0..100; undefined when the driver reports "[N/A]" / "[Not Supported]". */
  utilization?: number;
}

/**
 * What a node offers the scheduler. The scheduler numbers a node's GPUs 0..count-1 ("slots");
 * `physicalIndices[slot]` is the device index the agent puts in CUDA_VISIBLE_DEVICES, so a node that
 * hides some GPUs (another type, see pickInventory) still gets contiguous slots.
 */
export interface GpuInventory {
  gpuType: string;
  gpuMemoryGb: number;
  physicalIndices: number[];
  simulated: boolean;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total,utilization.gpu', '--format=csv,noheader,nounits'];

/**
 * Parses `nvidia-smi --query-gpu=index,name,memory.total,utilization.gpu --format=csv,noheader,nounits`,
 * e.g. `0, NVIDIA A100-SXM4-80GB, 81920, 37`. Names never contain commas, so a plain split is safe;
 * a malformed line is an error rather than a silently smaller node.
 */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const raw of csv.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length !== 4) throw new Error(`nvidia-smi: expected 4 columns, got ${cols.length}: "${line}"`);
    const [index, name, memory, util] = cols;
    if (!/^\d+$/.test(index) || !/^\d+(\.\d+)?$/.test(memory) || name === '') {
      throw new Error(`nvidia-smi: cannot parse "${line}"`);
    }
    const u = /^\d+(\.\d+)?$/.test(util) ? Math.min(100, Number(util)) : undefined;
    gpus.push({ index: Number(index), name, memoryMiB: Number(memory), utilization: u });
  }
  return gpus;
}

const VENDOR_WORDS = new Set(['NVIDIA', 'TESLA', 'GEFORCE', 'QUADRO']);
const FAMILY_WORDS = new Set(['RTX', 'GTX', 'TITAN']);

/**
 * A scheduler gpuType from a marketing name: "NVIDIA A100-SXM4-80GB" → A100, "NVIDIA H100 80GB HBM3"
 * → H100, "Tesla V100-SXM2-16GB" → V100, "NVIDIA GeForce RTX 4090" → RTX4090. Form factor and memory
 * size are dropped on purpose: memory is matched separately (gpuMemoryGb), and tasks ask for a model.
 */
export function gpuTypeOf(name: string): string {
  const words = name.toUpperCase().split(/\s+/).filter((w) => w !== '' && !VENDOR_WORDS.has(w));
  if (words.length === 0) return 'UNKNOWN';
  const first = words[0].split('-')[0];
  if (FAMILY_WORDS.has(first) && words.length > 1) return first + words[1].split('-')[0];
  return first.replace(/[^A-Z0-9._-]/g, '') || 'UNKNOWN';
}

/**
 * One node registers one gpuType, so on a mixed machine the agent offers the most numerous type
 * (ties: the type of the lowest index) and hides the rest. Memory is the smallest of the chosen GPUs,
 * rounded to whole GB (an "80GB" card reports 81,559 MiB).
 */
export function pickInventory(gpus: GpuInfo[], typeOverride = ''): GpuInventory {
  if (gpus.length === 0) throw new Error('nvidia-smi reported no GPUs');
  const byType = new Map<string, GpuInfo[]>();
  for (const g of [...gpus].sort((a, b) => a.index - b.index)) {
    const t = gpuTypeOf(g.name);
    byType.set(t, [...(byType.get(t) ?? []), g]);
  }
  let chosen: GpuInfo[] = [];
  let chosenType = '';
  for (const [t, list] of byType) {
    if (list.length > chosen.length) [chosen, chosenType] = [list, t];
  }
  return {
    gpuType: typeOverride || chosenType,
    gpuMemoryGb: Math.round(Math.min(...chosen.map((g) => g.memoryMiB)) / 1024),
    physicalIndices: chosen.map((g) => g.index),
    simulated: false,
  };
}

/** `count` simulated GPUs, device indices 0..count-1 (an agent's configured spec, a built-in simulated node). */
export function simulatedInventory(gpuType: string, count: number, gpuMemoryGb: number): GpuInventory {
  return { gpuType, gpuMemoryGb, physicalIndices: Array.from({ length: count }, (_, i) => i), simulated: true };
}

/** `A100x8:80` → 8 simulated A100s of 80 GB each. */
export function parseSimulatedGpus(spec: string): GpuInventory {
  const m = /^([A-Za-z0-9._-]+)x(\d{1,4}):(\d+(?:\.\d+)?)$/.exec(spec.trim());
  if (!m || Number(m[2]) < 1) throw new Error(`simulated GPUs must look like A100x8:80, got "${spec}"`);
  return simulatedInventory(m[1], Number(m[2]), Number(m[3]));
}

export type ExecResult = { kind: 'ok'; stdout: string } | { kind: 'missing' } | { kind: 'failed'; message: string };

/** Runs nvidia-smi from PATH; 'missing' when there is none (ENOENT), not when it fails. */
export function runNvidiaSmi(timeoutMs = 10_000, env: NodeJS.ProcessEnv = process.env): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', NVIDIA_SMI_ARGS, { timeout: timeoutMs, env, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ kind: 'ok', stdout });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ kind: 'missing' });
      resolve({ kind: 'failed', message: `${err.message.split('\n')[0]} ${String(stderr).trim().slice(0, 200)}`.trim() });
    });
  });
}

export interface DiscoveryOptions {
  simulatedSpec: string;
  gpuTypeOverride?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Real GPUs when nvidia-smi is on PATH, else the configured simulated ones. A present but failing
 * nvidia-smi (driver not loaded) is an error, not a reason to pretend: a GPU machine must not
 * register fake GPUs by accident.
 */
export async function discoverGpus(opts: DiscoveryOptions): Promise<GpuInventory> {
  const r = await runNvidiaSmi(10_000, opts.env);
  if (r.kind === 'ok') return pickInventory(parseNvidiaSmi(r.stdout), opts.gpuTypeOverride);
  if (r.kind === 'failed') throw new Error(`nvidia-smi failed: ${r.message}`);
  if (!opts.simulatedSpec) {
    throw new Error('no nvidia-smi on PATH and GPU_AGENT_SIMULATED_GPUS is empty: nothing to offer');
  }
  const inv = parseSimulatedGpus(opts.simulatedSpec);
  return opts.gpuTypeOverride ? { ...inv, gpuType: opts.gpuTypeOverride } : inv;
}

/** Per-slot utilization for heartbeats: nvidia-smi again for real GPUs; undefined if it fails. */
export async function sampleUtilization(inv: GpuInventory, env?: NodeJS.ProcessEnv): Promise<number[] | undefined> {
  const r = await runNvidiaSmi(5_000, env);
  if (r.kind !== 'ok') return undefined;
  try {
    const byIndex = new Map(parseNvidiaSmi(r.stdout).map((g) => [g.index, g.utilization ?? 0]));
    return inv.physicalIndices.map((i) => byIndex.get(i) ?? 0);
  } catch {
    return undefined;
  }
}
