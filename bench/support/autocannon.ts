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
