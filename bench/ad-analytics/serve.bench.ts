/**
 * GET /api/v1/ads/serve throughput and latency over 10,000 active ads (500 campaigns, weights
 * 1..100), beside a bare Fastify JSON route measured in the same run (the HTTP floor of this box).
 *   npx ts-node --transpile-only bench/ad-analytics/serve.bench.ts [embedded|full]   (default full)
 * autocannon runs in its own process (bench/support/autocannon.ts), 50 connections, 10 s each.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/app-config';
import { autocannon } from '../support/autocannon';

const profile = (process.argv[2] ?? 'full') as 'embedded' | 'full';
const SECONDS = Number(process.env.SECONDS ?? 10);
const CONNECTIONS = 50;

async function main() {
  const ns = `b-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    APP_PROFILE: profile,
    APP_MODULES: 'ad-analytics',
    APP_ROLES: 'api',
    NAMESPACE: ns,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: 'memory',
    RATE_LIMIT_PER_SECOND: '0',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    API_KEYS: 'admin:bench-admin-key,service:bench-service-key',
  });
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  for (let c = 0; c < 500; c++) {
    const ads = Array.from({ length: 20 }, (_, i) => ({ id: `${ns}-ad${c * 20 + i}`, creativeUrl: `https://cdn.example.com/${c}/${i}.png`, weight: 1 + ((c * 20 + i) % 100) }));
    const res = await fetch(`${base}/api/v1/ads/campaigns`, {
      method: 'POST',
      headers: { 'x-api-key': 'bench-admin-key', 'content-type': 'application/json' },
      body: JSON.stringify({ id: `${ns}-c${c}`, name: `campaign ${c}`, advertiserId: `adv${c % 50}`, ads }),
    });
    if (res.status !== 201) throw new Error(`campaign ${c}: ${res.status} ${await res.text()}`);
  }
  const bare = Fastify();
  bare.get('/bench', async () => ({ impressionId: '0193a1b2-0000-7000-8000-000000000000', adId: 'ad1', campaignId: 'c1', creativeUrl: 'https://cdn.example.com/1.png' }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as { port: number }).port;

  const baseline = await autocannon(`http://127.0.0.1:${barePort}/bench`, { connections: CONNECTIONS, seconds: SECONDS });
  const serve = await autocannon(`${base}/api/v1/ads/serve?placement=home-top&userId=u1`, {
    connections: CONNECTIONS,
    seconds: SECONDS,
    headers: { 'x-api-key': 'bench-service-key' },
  });
  console.log(
    JSON.stringify(
      { profile, ads: 10_000, connections: CONNECTIONS, seconds: SECONDS, serve, baseline, ratio: +(serve.rps / baseline.rps).toFixed(3) },
      null,
      1,
    ),
  );
  await bare.close();
  await app.close();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
