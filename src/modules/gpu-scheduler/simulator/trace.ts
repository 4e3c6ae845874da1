import { readFileSync } from 'fs';
import { GangPlacement, GpuNode, Task } from '../domain';

/** A task with its true runtime (known to the simulator only, never to the scheduler). */
export interface SimTask extends Task {
  runtimeSec: number;
}

/** GPU memory per model; G1-G3 are undisclosed in the Alibaba trace (assumed 80 GB). */
const GPU_MEMORY_GB: Record<string, number> = { V100M16: 16, V100M32: 32, T4: 16, P100: 16, A10: 24, A100: 80, H100: 80 };

function readCsv(path: string): Record<string, string>[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    const row: Record<string, string> = {};
    header.forEach((h, i) => (row[h] = cells[i] ?? ''));
    return row;
  });
}

/** Alibaba openb_node_list_gpu_node.csv: sn,cpu_milli,memory_mib,gpu,model (CPU and memory capacities kept). */
export function loadNodesCsv(path: string): GpuNode[] {
  return readCsv(path)
    .filter((r) => Number(r.gpu) > 0)
    .map((r) => ({
      id: r.sn,
      gpuType: r.model,
      gpuCount: Number(r.gpu),
      gpuMemoryGb: GPU_MEMORY_GB[r.model] ?? 80,
      freeGpuIndices: [...Array(Number(r.gpu)).keys()],
      status: 'ACTIVE' as const,
      ...(r.cpu_milli ? { cpuMilli: Number(r.cpu_milli) } : {}),
      ...(r.memory_mib ? { memoryMib: Number(r.memory_mib) } : {}),
    }));
}

/** "100x8:A100" or "10x8:A100,4x4:T4" → nodes. */
export function parseNodeSpec(spec: string): GpuNode[] {
  const out: GpuNode[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)x(\d+):([\w-]+)$/.exec(part.trim());
    if (!m) throw new Error(`bad node spec "${part}" (expected e.g. 100x8:A100)`);
    const [n, g, type] = [Number(m[1]), Number(m[2]), m[3]];
    for (let i = 0; i < n; i++) {
      out.push({ id: `${type}-${out.length}`, gpuType: type, gpuCount: g, gpuMemoryGb: GPU_MEMORY_GB[type] ?? 80, freeGpuIndices: [...Array(g).keys()], status: 'ACTIVE' });
    }
  }
  return out;
}

export interface TraceStats {
  rows: number;
  /** Pods asking for no GPU (kept: they take CPU and memory on GPU nodes). */
  cpuOnly: number;
  /** Pods asking for a share of one GPU (gpu_milli < 1000; kept as gpuMilli). */
  fractional: number;
  /** Pods with no scheduled_time (Pending at trace end): their runtime is unknown, so replay skips them. */
  skippedNeverScheduled: number;
}

/** One trace row as a task (no runtime: the paper's method needs none). */
function podTask(r: Record<string, string>): Task {
  const gpus = Number(r.num_gpu) || 0;
  const milli = Number(r.gpu_milli);
  const t: Task = {
    id: r.name,
    userId: r.name,
    tier: r.qos === 'LS' || r.qos === 'Guaranteed' ? 'vip' : 'normal',
    gpuType: r.gpu_spec ? r.gpu_spec : undefined,
    gpuCount: gpus,
    // the trace has no GPU memory column: a share's memory is part of its milli
    gpuMemoryGb: 0,
    cpuMilli: Number(r.cpu_milli) || 0,
    memoryMib: Number(r.memory_mib) || 0,
    submittedAt: Number(r.creation_time),
    model: `${r.cpu_milli}/${r.memory_mib}/${r.gpu_milli}`,
  };
  if (gpus === 1 && milli > 0 && milli < 1000) t.gpuMilli = milli;
  return t;
}

/**
 * Alibaba openb_pod_list_*.csv. tier: LS/Guaranteed -> vip, BE/Burstable -> normal; submittedAt =
 * creation_time; runtime = deletion_time - scheduled_time (min 1 s); gpu_milli < 1000 -> a share of one
 * GPU (gpuMilli); cpu_milli, memory_mib kept; num_gpu = 0 -> a CPU-only task; gpu_spec -> gpuType
 * (alternatives '|', empty = any). `model` (the predictor's similarity key) = the pod's resource
 * signature cpu/mem/gpu_milli, since the trace has no model names.
 * `tasks`: the replayable pods (never-scheduled ones skipped: runtime unknown), in submit order.
 * `pods`: every row, in file order (what the paper's inflation method samples from).
 */
export function loadTraceCsv(path: string, limit?: number): { tasks: SimTask[]; pods: Task[]; stats: TraceStats } {
  const rows = readCsv(path);
  const stats: TraceStats = { rows: rows.length, cpuOnly: 0, fractional: 0, skippedNeverScheduled: 0 };
  const tasks: SimTask[] = [];
  const pods: Task[] = [];
  for (const r of rows) {
    const t = podTask(r);
    pods.push(t);
    if (t.gpuCount === 0) stats.cpuOnly++;
    if (t.gpuMilli !== undefined) stats.fractional++;
    if (r.scheduled_time === '' || r.deletion_time === '') {
      stats.skippedNeverScheduled++;
      continue;
    }
    if (limit !== undefined && tasks.length >= limit) continue;
    const runtime = Math.max(1, Number(r.deletion_time) - Number(r.scheduled_time));
    tasks.push({ ...t, runtimeSec: Number.isFinite(runtime) ? runtime : 1 });
  }
  tasks.sort((a, b) => a.submittedAt - b.submittedAt);
  return { tasks, pods, stats };
}

export interface SyntheticOptions {
  count: number;
  seed?: number;
  /** Mean seconds between arrivals. */
  meanInterArrivalSec?: number;
  meanRuntimeSec?: number;
  vipFraction?: number;
  /**
   * 'exponential' (default, the specs' traces) or 'lognormal' (heavy-tailed, as measured on real GPU
   * clusters: most jobs minutes long, a few running for days); both have mean meanRuntimeSec x model factor.
   */
  runtimeDist?: 'exponential' | 'lognormal';
  /** Runtimes are capped here (a 48 h job limit is common; also keeps one tail draw from setting the makespan). */
  maxRuntimeSec?: number;
  /** Gang placement of every task (default: none, i.e. the cluster's default). */
  gangPlacement?: GangPlacement;
  /** Arrival rate varies over the day as mean x (1 + A sin(2 pi t / 1 day)); 0 (default) = constant. */
  diurnalAmplitude?: number;
}

/** Deterministic synthetic trace (LCG): 1/2/4/8-GPU tasks (70/10/10/10%), exponential gaps, exponential or lognormal runtimes, 5 models. */
export function syntheticTrace(o: SyntheticOptions): SimTask[] {
  let s = (o.seed ?? 1) >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const exp = (mean: number) => -Math.log(rnd()) * mean;
  const sigma = 1.5;
  // Box-Muller; mu chosen so the lognormal's mean is `mean`
  const logn = (mean: number) => Math.exp(Math.log(mean) - (sigma * sigma) / 2 + sigma * Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd()));
  const runtime = o.runtimeDist === 'lognormal' ? logn : exp;
  const sizes = [1, 1, 1, 1, 1, 1, 1, 2, 4, 8];
  const out: SimTask[] = [];
  let t = 0;
  for (let i = 0; i < o.count; i++) {
    const A = o.diurnalAmplitude ?? 0;
    t += exp((o.meanInterArrivalSec ?? 60) / (1 + A * Math.sin((2 * Math.PI * t) / 86400)));
    const model = `m${Math.floor(rnd() * 5)}`;
    const gpuCount = sizes[Math.floor(rnd() * sizes.length)];
    const runtimeSec = Math.min(o.maxRuntimeSec ?? Infinity, Math.max(1, Math.round(runtime(o.meanRuntimeSec ?? 1800) * (1 + Number(model[1]) / 4))));
    out.push({
      id: `t${i}`,
      userId: `u${i % 17}`,
      tier: rnd() < (o.vipFraction ?? 0.5) ? 'vip' : 'normal',
      gpuCount,
      gpuMemoryGb: 0,
      submittedAt: Math.round(t),
      model,
      runtimeSec,
      ...(o.gangPlacement ? { gangPlacement: o.gangPlacement } : {}),
    });
  }
  return out;
}
