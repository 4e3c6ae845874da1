/**
 * What the platform's HTTP stack (Nest + guards + validation + logging + metrics) costs over a
 * bare Fastify JSON route, measured in the same run on the same machine. A third server, Nest on
 * its Fastify adapter with nothing of ours (no guard, pipe, hook or logger), shows the floor Nest
 * itself sets: what is above it is ours to remove, what is below it is the framework's.
 *   npx ts-node --transpile-only bench/platform/http-overhead.bench.ts [seconds=10] [connections=50]
 */
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { RequireRole } from '../../src/platform/auth/roles.decorator';
import { autocannon } from '../support/autocannon';

@Controller('api/v1/bench')
class BenchController {
  @RequireRole('client')
  @Get()
  get() {
    return { ok: true, n: 42 };
  }
}
@Module({ controllers: [BenchController] })
class BenchModule {}

@Controller('bench')
class BareNestController {
  @Get()
  get() {
    return { ok: true, n: 42 };
  }
}
@Module({ controllers: [BareNestController] })
class BareNestModule {}

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);

function run(url: string, headers: Record<string, string> = {}) {
  return autocannon(url, { connections, seconds, headers });
}

async function main() {
  const bare = Fastify();
  bare.get('/bench', async () => ({ ok: true, n: 42 }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as { port: number }).port;

  const nest = await NestFactory.create<NestFastifyApplication>(BareNestModule, new FastifyAdapter(), { logger: false });
  await nest.listen({ port: 0, host: '127.0.0.1' });
  const nestPort = (nest.getHttpServer().address() as { port: number }).port;

  const config = loadConfig({ DATA_DIR: 'memory', LOG_LEVEL: 'warn', API_KEYS: 'client:bench-client-key', RATE_LIMIT_PER_SECOND: '0' });
  const app = await createApp(config, [BenchModule]);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const appPort = (app.getHttpServer().address() as { port: number }).port;

  const baseline = await run(`http://127.0.0.1:${barePort}/bench`);
  const bareNest = await run(`http://127.0.0.1:${nestPort}/bench`);
  const tetrad = await run(`http://127.0.0.1:${appPort}/api/v1/bench`, { 'x-api-key': 'bench-client-key' });
  const ratio = (a: { rps: number }) => +(a.rps / baseline.rps).toFixed(3);
  console.log(JSON.stringify({ seconds, connections, baseline, bareNest, tetrad, ratio: ratio(tetrad), bareNestRatio: ratio(bareNest) }, null, 2));
  await app.close();
  await nest.close();
  await bare.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
