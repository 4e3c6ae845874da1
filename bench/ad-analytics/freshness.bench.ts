/**
 * Freshness: event time → visible in the real-time store (the closed (partition, window) row in
 * ad_minute_stats that /stats reads), default stream config (1-min windows, 5 s out-of-orderness,
 * 2 min allowed lateness, 1 s checkpoints), full profile.
 *   npx ts-node --transpile-only bench/ad-analytics/freshness.bench.ts [sendSeconds=120]
 * Sends 200 events/s (impressions with ts = now, 1 % clicks) over HTTP for sendSeconds, then keeps
 * polling until every window holding those events has closed. Freshness of an event = the time its
 * (partition, window) row first appeared minus its ts. Takes sendSeconds + ~3.5 min.
 */
import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app';
import { eventsTopic } from '../../src/modules/ad-analytics';
import { adAnalyticsFullConfig, SERVICE_KEY } from '../support/ad-analytics';

const SEND_S = Number(process.argv[2] ?? 120);
const RATE = 200;
const PARTITIONS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const ns = `b-${randomBytes(4).toString('hex')}`;
  const config = adAnalyticsFullConfig(ns, 'api,worker', PARTITIONS);
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/api/v1/track/events`;
  const db = app.get(DataSource);
  const topic = eventsTopic(config);
  const windowMs = config.ADS_WINDOW_MS;
  const partitioner = Partitioners.DefaultPartitioner();
  const meta = Array.from({ length: PARTITIONS }, (_, i) => ({ partitionId: i, leader: 0 }));
  const partitionOf = (key: string) => partitioner({ topic, partitionMetadata: meta as never, message: { key, value: '' } });

  const sent: { ts: number; key: string }[] = []; // partition:windowStart of each event
  const visible = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const rows: { partition: number; window_start: string }[] = await db.query(
        'SELECT DISTINCT partition, window_start FROM ad_minute_stats WHERE topic = $1',
        [topic],
      );
      const now = Date.now();
      for (const r of rows) {
        const k = `${r.partition}:${r.window_start}`;
        if (!visible.has(k)) visible.set(k, now);
      }
      await sleep(250);
    }
  })();

  const t0 = Date.now();
  let i = 0;
  while (Date.now() - t0 < SEND_S * 1000) {
    const events = [];
    for (let j = 0; j < RATE / 2; j++, i++) {
      const ts = Date.now();
      const impressionId = `${ns}-${i}`;
      const ad = `ad${i % 100}`;
      events.push({ type: 'impression', impressionId, adId: ad, campaignId: 'c1', ts });
      if (i % 100 === 0) events.push({ type: 'click', impressionId, adId: ad, campaignId: 'c1', ts: ts + 1 });
      sent.push({ ts, key: `${partitionOf(impressionId)}:${ts - (ts % windowMs)}` });
    }
    const res = await fetch(url, { method: 'POST', headers: { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    if (res.status !== 202) throw new Error(`track ${res.status}`);
    await sleep(500);
  }
  // Keep the watermark moving (events with ts = now) until every window of the sent events closed.
  const lastWindowKeys = new Set(sent.map((s) => s.key));
  const deadline = Date.now() + 6 * 60_000;
  while ([...lastWindowKeys].some((k) => !visible.has(k)) && Date.now() < deadline) {
    const events = Array.from({ length: PARTITIONS * 4 }, (_, j) => ({ type: 'impression', impressionId: `${ns}-tick-${Date.now()}-${j}`, adId: 'ticker', campaignId: 'ticker', ts: Date.now() }));
    await fetch(url, { method: 'POST', headers: { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    await sleep(1000);
  }
  polling = false;
  await poller;
  const fresh = sent.filter((s) => visible.has(s.key)).map((s) => (visible.get(s.key)! - s.ts) / 1000).sort((a, b) => a - b);
  const q = (p: number) => fresh[Math.min(fresh.length - 1, Math.ceil(p * fresh.length) - 1)].toFixed(1);
  console.log(
    `freshness over ${fresh.length} of ${sent.length} events (${SEND_S} s at ${RATE}/s): p50 ${q(0.5)} s, p99 ${q(0.99)} s, max ${fresh[fresh.length - 1].toFixed(1)} s ` +
      `(window ${windowMs / 1000} s, lateness ${config.ADS_ALLOWED_LATENESS_MS / 1000} s, out-of-orderness ${config.ADS_OUT_OF_ORDERNESS_MS / 1000} s, checkpoint ${config.ADS_CHECKPOINT_INTERVAL_MS} ms)`,
  );
  await app.close();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
