import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Runs autocannon in its own process, so the load generator does not share the servers' event loop. */
export async function autocannon(
  url: string,
  opts: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<LoadResult> {
  const args = ['-j', '-c', String(opts.connections), '-d', String(opts.seconds)];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  const { stdout } = await promisify(execFile)(process.execPath, [require.resolve('autocannon/autocannon.js'), ...args, url], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const r = JSON.parse(stdout);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/**
 * autocannon plus this process's CPU time (user + system) per request served. When the servers under
 * test live in this process, one loaded at a time, CPU µs per request compares across them even on a
 * box too loaded for req/s to (on a quiet box, where the server is CPU bound, its ratio is req/s's).
 */
export async function autocannonWithCpu(
  url: string,
  opts: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<LoadResult & { cpuUsPerReq: number }> {
  const cpu = process.cpuUsage();
  const r = await autocannon(url, opts);
  const used = process.cpuUsage(cpu);
  return { ...r, cpuUsPerReq: +((used.user + used.system) / (r.rps * opts.seconds)).toFixed(1) };
}
