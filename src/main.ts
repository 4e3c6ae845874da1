import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig, readEnvFile } from './config/app-config';
import { apiProcessCount, runApiCluster } from './api-cluster';
import { createApp } from './app';

async function main(): Promise<void> {
  readEnvFile();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) process.stderr.write(`config error: ${p}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (cluster.isPrimary) {
    const count = apiProcessCount(config);
    if (count > 1) return runApiCluster(config, count);
  }
  const app = await createApp(config);
  const log = new Logger('bootstrap');
  if (config.usingDevKey) {
    log.warn('API_KEYS is unset: the development key admin:dev-admin-key is active (embedded profile only)');
  }
  // app.close() stops accepting, drains in-flight requests (Fastify), runs the modules' shutdown
  // hooks (consumers commit and leave their groups) and closes pools. A stuck dependency must not
  // keep a terminating pod alive past its grace period, hence the timer.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.log(`${signal}: shutting down`);
      setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
      app.close().then(
        () => process.exit(0),
        (e: unknown) => {
          process.stderr.write(`shutdown failed: ${(e as Error).message}\n`);
          process.exit(1);
        },
      );
    });
  }
  await app.listen({ port: config.PORT, host: config.HOST });
  log.log(`tetrad listening on ${config.HOST}:${config.PORT} (profile ${config.APP_PROFILE}, roles ${config.APP_ROLES.join(',')}, modules ${config.APP_MODULES.join(',')})`);
  if (config.APP_ROLES.includes('api')) {
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    log.log(`web console: http://${host}:${config.PORT}/console/ (API docs: /docs)`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${(e as Error).message}\n`);
  process.exit(1);
});
