/**
 * GPU scheduler simulator CLI: replays a trace in virtual time through the domain scheduleCycle.
 *   npx ts-node --transpile-only src/modules/gpu-scheduler/simulator/simulate.ts \
 *     --trace ../shared/data/gpu-trace-alibaba-2023/openb_pod_list_default.csv \
 *     --nodes ../shared/data/gpu-trace-alibaba-2023/openb_node_list_gpu_node.csv --policy all [--limit N]
 * --nodes also accepts a spec such as 100x8:A100 (or 10x8:A100,4x4:T4); --trace synthetic:N generates N tasks.
 * --synthetic N: the 100,000-task benchmark workload (npm run bench:gpu-sim): N tasks, gangs 1/2/4/8,
 *   lognormal runtimes (mean 45 min, sigma 1.5, capped at 48 h), --vip-share (default 0.3) VIP, Poisson
 *   arrivals averaging --load (default 0.95) of the cluster's GPU capacity with a +-50% daily swing:
 *   queues build at the daily peak and drain at night: busy, but not infinitely overloaded.
 *   --seed S (default 1).
 */
import { existsSync } from 'fs';
import { bestFit, PolicyName, worstFit } from '../domain';
import { simulate, SimResult } from './engine';
import { loadNodesCsv, loadTraceCsv, parseNodeSpec, syntheticTrace } from './trace';

const DATA = '../shared/data/gpu-trace-alibaba-2023';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const h = (s: number) => (s / 3600).toFixed(2) + 'h';

export function formatResult(r: SimResult): string {
  const w = (t: 'vip' | 'normal') =>
    `${t.padEnd(6)} n=${r.wait[t].count} mean=${h(r.wait[t].meanWait)} p50=${h(r.wait[t].p50Wait)} p95=${h(r.wait[t].p95Wait)} max=${h(r.wait[t].maxWait)}`;
  return [
    `== policy ${r.policy}: ${r.tasks} tasks, ${r.finished} finished, ${r.unscheduled} never scheduled, ${r.totalGpus} GPUs`,
    `  GPU utilization   ${(100 * r.gpuUtilization).toFixed(1)}%`,
    `  wait ${w('vip')}`,
    `  wait ${w('normal')}`,
    `  mean JCT          ${h(r.meanJct)}`,
    `  VIP GPU-hour share ${(100 * r.vipGpuHourShare).toFixed(1)}%`,
    `  makespan          ${h(r.makespanSec)}`,
    `  cycles ${r.cycles} (+${r.skippedCycles} skipped: nothing could fit), decisions ${r.decisions} (backfilled ${r.backfilled}), cycle time ${r.cycleTimeMs.toFixed(0)} ms, ${r.decisionsPerSec.toFixed(0)} decisions/s`,
    `  runtime predictor: MAPE ${(100 * r.predictor.meanAbsPctError).toFixed(0)}%, under-predicted ${(100 * r.predictor.underPredictedFraction).toFixed(0)}% of ${r.predictor.samples}`,
  ].join('\n');
}

/** Mean runtime of the bench workload and the generator's model factor (1 + m/4, m uniform 0..4: mean 1.5). */
const BENCH_MEAN_RUNTIME_SEC = 1800;
const MEAN_GPUS_PER_TASK = (7 * 1 + 2 + 4 + 8) / 10;

/** The benchmark workload: arrival rate set so offered GPU demand = load x capacity. */
export function benchWorkload(count: number, totalGpus: number, o: { load: number; vipShare: number; seed: number }) {
  const gpuSecPerTask = MEAN_GPUS_PER_TASK * BENCH_MEAN_RUNTIME_SEC * 1.5;
  return syntheticTrace({
    count,
    seed: o.seed,
    vipFraction: o.vipShare,
    meanRuntimeSec: BENCH_MEAN_RUNTIME_SEC,
    runtimeDist: 'lognormal',
    maxRuntimeSec: 48 * 3600,
    diurnalAmplitude: 0.5,
    meanInterArrivalSec: gpuSecPerTask / (o.load * totalGpus),
  });
}

function main(): void {
  const tracePath = arg('trace', `${DATA}/openb_pod_list_default.csv`)!;
  const nodesArg = arg('nodes', `${DATA}/openb_node_list_gpu_node.csv`)!;
  const limit = arg('limit') ? Number(arg('limit')) : undefined;
  const policyArg = arg('policy', 'all')!;
  const scorer = arg('scorer', 'worst-fit') === 'best-fit' ? bestFit : worstFit;
  const nodes = existsSync(nodesArg) ? loadNodesCsv(nodesArg) : parseNodeSpec(nodesArg);
  let tasks;
  const synthetic = arg('synthetic');
  if (synthetic !== undefined) {
    tasks = benchWorkload(Number(synthetic), nodes.reduce((s, n) => s + n.gpuCount, 0), {
      load: Number(arg('load', '0.95')),
      vipShare: Number(arg('vip-share', '0.3')),
      seed: Number(arg('seed', '1')),
    });
  } else if (tracePath.startsWith('synthetic:')) {
    tasks = syntheticTrace({ count: Number(tracePath.slice('synthetic:'.length)) || 1000 });
  } else {
    const loaded = loadTraceCsv(tracePath, limit);
    tasks = loaded.tasks;
    process.stderr.write(`trace: ${loaded.stats.rows} rows, ${loaded.stats.skippedCpuOnly} CPU-only skipped, ${loaded.stats.skippedNeverScheduled} never-scheduled (Pending) skipped, ${loaded.stats.roundedFractional} fractional GPUs rounded up\n`);
  }
  if (limit !== undefined) tasks = tasks.slice(0, limit);
  const map: Record<string, PolicyName> = { fifo: 'fifo', priority: 'strict-priority', 'strict-priority': 'strict-priority', full: 'full' };
  const policies: PolicyName[] = policyArg === 'all' ? ['fifo', 'strict-priority', 'full'] : [map[policyArg]];
  if (policies.some((p) => !p)) throw new Error(`unknown --policy ${policyArg} (fifo|priority|full|all)`);
  console.log(`nodes: ${nodes.length}, GPUs: ${nodes.reduce((s, n) => s + n.gpuCount, 0)}, tasks: ${tasks.length}`);
  for (const policy of policies) {
    const w0 = Date.now();
    const r = simulate(nodes, tasks, {
      policy,
      scorer,
      hrtimeMs: () => Number(process.hrtime.bigint()) / 1e6,
      onProgress: (d, t) => process.stderr.write(`\r[${policy}] ${((100 * d) / t).toFixed(0)}% events`),
    });
    process.stderr.write('\n');
    console.log(formatResult(r));
    console.log(`  wall time          ${((Date.now() - w0) / 1000).toFixed(1)} s (whole replay of this policy)`);
  }
}

if (require.main === module) main();
