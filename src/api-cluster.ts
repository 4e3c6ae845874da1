import cluster, { Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { Logger } from '@nestjs/common';
import pino from 'pino';
import { AppConfig } from './config/app-config';
import { PinoNestLogger } from './platform/logging/pino-nest-logger';

/**
 * How many API processes this container runs (WEB_CONCURRENCY, default: the number of cores).
 * One, whatever WEB_CONCURRENCY says, when:
 * - the process has no `api` role (background roles must run once per container);
 * - the profile is embedded: its key-value store, queue, bus and PGlite live inside the process,
 *   so a second process would hold a second, diverging copy of the state.
 */
export function apiProcessCount(config: AppConfig): number {
  if (!config.APP_ROLES.includes('api') || config.APP_PROFILE !== 'full') return 1;
  return config.WEB_CONCURRENCY ?? availableParallelism();
}

/**
 * The cluster primary: forks `count` workers sharing the port (Node hands out connections round
 * robin). Worker #1 runs every configured role; the others run `api` only, so the scheduler,
 * queue workers and agents still run once. SIGTERM/SIGINT go to every worker, and the primary
 * exits once all have (each bounds its own drain by SHUTDOWN_TIMEOUT_MS; the primary kills
 * stragglers a second later). A worker that dies after it served is replaced; one that dies
 * before it ever listened (bad config, unreachable dependency) stops the whole container, so the
 * orchestrator sees the failure instead of a restart loop.
 */
export function runApiCluster(config: AppConfig, count: number): void {
  // The primary never builds the app: give its lines the workers' JSON format and LOG_LEVEL.
  Logger.overrideLogger(new PinoNestLogger(pino({ level: config.LOG_LEVEL })));
  const log = new Logger('cluster');
  const rolesOf = new Map<Worker, string>();
  const served = new Set<Worker>();
  let stopping = false;
  let failed = false;

  const fork = (roles: string) => {
    const w = cluster.fork({ APP_ROLES: roles });
    rolesOf.set(w, roles);
    w.once('listening', () => served.add(w));
  };
  const stopAll = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const w of rolesOf.keys()) w.process.kill(signal);
    setTimeout(() => {
      for (const w of rolesOf.keys()) w.process.kill('SIGKILL');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 1000).unref();
  };

  cluster.on('exit', (w, code, signal) => {
    const roles = rolesOf.get(w)!;
    rolesOf.delete(w);
    if (code !== 0 && !stopping) failed = true;
    if (stopping || !served.has(w)) {
      if (!stopping) {
        log.error(`worker ${w.process.pid} (roles ${roles}) exited (${signal ?? code}) before serving: stopping`);
        stopAll('SIGTERM');
      }
      if (rolesOf.size === 0) process.exit(failed || code !== 0 ? 1 : 0);
      return;
    }
    served.delete(w);
    log.warn(`worker ${w.process.pid} (roles ${roles}) exited (${signal ?? code}): starting another`);
    fork(roles);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.log(`${signal}: stopping ${rolesOf.size} API processes`);
      stopAll(signal);
    });
  }

  log.log(`starting ${count} API processes (WEB_CONCURRENCY); background roles run in the first only`);
  for (let i = 0; i < count; i++) fork(i === 0 ? config.APP_ROLES.join(',') : 'api');
}
