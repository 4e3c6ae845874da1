/**
 * What the platform's HTTP stack (Nest + key check + validation + logging + metrics) costs over a
 * bare Fastify JSON route, measured in the same run on the same machine. Two more servers: bare
 * Fastify writing the same response headers as Tetrad (what those headers alone cost), and Nest on
 * its Fastify adapter with nothing of ours (no guard, pipe, hook or logger), the floor Nest itself
 * sets: what is above them is ours to remove, what is below them is the framework's or the headers'.
 * Each server also reports this process's CPU µs per request (all servers live in it, one loaded at
 * a time): on a loaded box, where req/s swing with other work, the CPU ratio still compares.
 *   npx ts-node --transpile-only bench/platform/http-overhead.bench.ts [seconds=10] [connections=50] [only] [rounds=1]
 * `only` = bare | headers | nest | tetrad runs just that server (for a `node --cpu-prof` of one phase); `all`
 * runs all four. With rounds > 1 they alternate, `seconds` each, and each round's ratios are
 * printed: on a loaded box the load changes within seconds, and only ratios taken close together compare.
 */
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { securityHeaders } from '../../src/platform/http/security-headers';
import { autocannonWithCpu } from '../support/autocannon';
import { EmptyRouteController } from '../support/empty-route';

@Module({ controllers: [EmptyRouteController] })
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
const only = process.argv[4] === 'all' ? undefined : process.argv[4];
const rounds = Number(process.argv[5] ?? 1);

/** All the servers live in this process, one loaded at a time: see autocannonWithCpu. */
const run = (url: string, headers: Record<string, string> = {}) => autocannonWithCpu(url, { connections, seconds, headers });

async function main() {
  const bare = Fastify();
  bare.get('/bench', async () => ({ ok: true, n: 42 }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as { port: number }).port;

  // Bare Fastify writing the same response headers Tetrad writes (13 security headers, request id,
  // cache-control): what those headers alone cost, the ceiling for any route that sends them.
  const headers = securityHeaders();
  const bareHeaders = Fastify();
  bareHeaders.addHook('onRequest', (req, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    void reply.header('x-request-id', randomUUID()).header('cache-control', 'no-store');
    done();
  });
  bareHeaders.get('/bench', async () => ({ ok: true, n: 42 }));
  await bareHeaders.listen({ port: 0, host: '127.0.0.1' });
  const bareHeadersPort = (bareHeaders.server.address() as { port: number }).port;

  const nest = await NestFactory.create<NestFastifyApplication>(BareNestModule, new FastifyAdapter(), { logger: false });
  await nest.listen({ port: 0, host: '127.0.0.1' });
  const nestPort = (nest.getHttpServer().address() as { port: number }).port;

  const config = loadConfig({ DATA_DIR: 'memory', LOG_LEVEL: 'warn', API_KEYS: 'client:bench-client-key', RATE_LIMIT_PER_SECOND: '0' });
  const app = await createApp(config, [BenchModule]);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const appPort = (app.getHttpServer().address() as { port: number }).port;

  const skip = { rps: NaN, cpuUsPerReq: NaN };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratios: { ratio: number; bareNestRatio: number; headersRatio: number; cpuRatio: number; bareNestCpuRatio: number; headersCpuRatio: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const baseline = !only || only === 'bare' ? await run(`http://127.0.0.1:${barePort}/bench`) : skip;
    const withHeaders = !only || only === 'headers' ? await run(`http://127.0.0.1:${bareHeadersPort}/bench`) : skip;
    const bareNest = !only || only === 'nest' ? await run(`http://127.0.0.1:${nestPort}/bench`) : skip;
    const tetrad = !only || only === 'tetrad' ? await run(`http://127.0.0.1:${appPort}/api/v1/bench`, { 'x-api-key': 'bench-client-key' }) : skip;
    const ratio = (a: { rps: number }) => +(a.rps / baseline.rps).toFixed(3);
    const cpuRatio = (a: { cpuUsPerReq: number }) => +(baseline.cpuUsPerReq / a.cpuUsPerReq).toFixed(3);
    ratios.push({
      ratio: ratio(tetrad),
      bareNestRatio: ratio(bareNest),
      headersRatio: ratio(withHeaders),
      cpuRatio: cpuRatio(tetrad),
      bareNestCpuRatio: cpuRatio(bareNest),
      headersCpuRatio: cpuRatio(withHeaders),
    });
    console.log(JSON.stringify({ round, seconds, connections, baseline, withHeaders, bareNest, tetrad, ...ratios[round] }, null, 2));
  }
  if (rounds > 1) {
    const med = (k: keyof (typeof ratios)[0]) => median(ratios.map((r) => r[k]));
    const keys = Object.keys(ratios[0]) as (keyof (typeof ratios)[0])[];
    console.log(JSON.stringify({ rounds, median: Object.fromEntries(keys.map((k) => [k, med(k)])) }));
  }
  await app.close();
  await nest.close();
  await bareHeaders.close();
  await bare.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
