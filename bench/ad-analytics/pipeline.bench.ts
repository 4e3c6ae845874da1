/**
 * Ad-analytics pipeline on the full profile (Kafka, PostgreSQL, Redis), three measurements in one run:
 *   npx ts-node --transpile-only bench/ad-analytics/pipeline.bench.ts [impressions=300000]
 * 1. Baseline: raw kafkajs on a fresh 6-partition topic, the same messages: produce (idempotent,
 *    acks=all, batches of 1,000, 8 sends in flight) and consume (a consumer group reading every
 *    message, no processing).
 * 2. Stream stage alone: the workload is produced to `ads.events` first, then a worker-only app
 *    (APP_ROLES=worker) consumes it; events/s from its first checkpoint until every event is
 *    checkpointed, checked against the true totals in closed windows.
 * 3. End to end: an api+worker app; the workload goes in as HTTP batches of 1,000
 *    (POST /track/events, 8 in flight, the client in this process); events/s from the first POST
 *    until the closed windows in PostgreSQL hold every impression and click.
 * 4. (STAGES=gateway) the gateway alone: an api-only app, the same HTTP batches, events/s until the
 *    last batch is acknowledged.
 * Workload: bench/ad-analytics/workload.ts (10,000 ads, Zipf(1), 1 % CTR, event time 500
 * impressions/s, so windows close steadily during the run). Env: EVENT_RATE, STAGES=raw,stream,e2e (also: gateway);
 * ADS_CHECKPOINT_INTERVAL_MS etc. pass through to the app.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app';
import { AppConfig } from '../../src/config/app-config';
import { eventsTopic } from '../../src/modules/ad-analytics';
import { streamCounters, streamKey } from '../../test/support/ad-analytics';
import { MetricsRegistry } from '../../src/platform/metrics/metrics';
import { encodeEvent } from '../../src/modules/ad-analytics/domain';
import { adAnalyticsFullConfig, SERVICE_KEY } from '../support/ad-analytics';
import { closers, makeWorkload, Workload } from './workload';

const IMPRESSIONS = Number(process.argv[2] ?? 300_000);
const PARTITIONS = 6;
/** impressions per second of event time */
const EVENT_RATE = Number(process.env.EVENT_RATE ?? 500);
const BROKERS = (process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function env(ns: string, roles: string) {
  return adAnalyticsFullConfig(ns, roles, PARTITIONS, { HTTP_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) });
}

async function produceRaw(kafka: Kafka, topic: string, values: { key: string; value: string }[]): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < values.length) {
        const slice = values.slice(next, (next += 1000));
        await producer.send({ topic, acks: -1, messages: slice });
      }
    }),
  );
  const ms = performance.now() - t0;
  await producer.disconnect();
  return ms;
}

async function baseline(kafka: Kafka, messages: { key: string; value: string }[]) {
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-raw-${randomBytes(4).toString('hex')}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  const produceMs = await produceRaw(kafka, topic, messages);
  const consumer = kafka.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (!first) first = performance.now();
      for (const m of batch.messages) if (m.value) seen++;
      last = performance.now();
    },
  });
  while (seen < messages.length) await sleep(20);
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { produce: messages.length / (produceMs / 1000), consume: messages.length / ((last - first) / 1000) };
}

/** Sums of closed windows (closers excluded) for the namespace's topic. */
async function closedTotals(db: DataSource, topic: string) {
  const [r] = await db.query(
    `SELECT coalesce(sum(impressions),0) AS i, coalesce(sum(clicks),0) AS c FROM ad_minute_stats WHERE topic = $1 AND ad_id <> 'closer'`,
    [topic],
  );
  return { impressions: Number(r.i), clicks: Number(r.c) };
}

async function streamStage(kafka: Kafka, w: Workload, messages: { key: string; value: string }[]) {
  const ns = `b-${randomBytes(4).toString('hex')}`;
  const topic = `${ns}.ads.events`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  await admin.disconnect();
  await produceRaw(kafka, topic, messages);
  const app = await createApp(env(ns, 'worker'));
  await app.init();
  // From the end of init (subscribed, group join included): a lower bound that, unlike t0, also counts the
  // events processed before the first checkpoint.
  const tInit = performance.now();
  const db = app.get(DataSource);
  const key = streamKey(app);
  let t0 = 0;
  for (;;) {
    const c = await streamCounters(db, key);
    if (!t0 && c.events > 0) t0 = performance.now();
    if (c.events >= messages.length) break;
    await sleep(20);
  }
  const ms = performance.now() - t0;
  const fromInitMs = performance.now() - tInit;
  let totals = await closedTotals(db, topic);
  for (let i = 0; i < 100 && totals.impressions < w.impressions; i++) totals = (await sleep(100), await closedTotals(db, topic));
  const h = (await app.get(MetricsRegistry).registry.getSingleMetric('ads_stream_checkpoint_seconds')!.get()).values;
  const cps = h.find((v) => (v as { metricName?: string }).metricName === 'ads_stream_checkpoint_seconds_count')?.value ?? 0;
  const cpSum = h.find((v) => (v as { metricName?: string }).metricName === 'ads_stream_checkpoint_seconds_sum')?.value ?? 0;
  const state = await db.query(
    `SELECT sum(length(snapshot)) AS bytes FROM ad_stream_checkpoints WHERE topic = $1`, [topic]);
  await app.close();
  return { eventsPerSec: messages.length / (ms / 1000), ms, fromInit: messages.length / (fromInitMs / 1000), totals, snapshotBytes: Number(state[0].bytes), checkpoints: cps, checkpointMs: cpSum * 1000 };
}

/** roles 'api': the gateway alone (no worker), timed until the last batch is acknowledged. */
async function endToEnd(w: Workload, batches: string[], total: number, roles = 'api,worker') {
  const ns = `b-${randomBytes(4).toString('hex')}`;
  const app = await createApp(env(ns, roles));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/api/v1/track/events`;
  const topic = eventsTopic(app.get(AppConfig));
  const db = app.get(DataSource);
  const t0 = performance.now();
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        const body = batches[next++];
        // A client retries a 503 (the log did not ack in time); the stream drops the duplicates.
        for (;;) {
          const res = await fetch(url, { method: 'POST', headers: { 'x-api-key': SERVICE_KEY, 'content-type': 'application/json' }, body });
          await res.arrayBuffer();
          if (res.status === 202) break;
          errors++;
          if (res.status !== 503) throw new Error(`track answered ${res.status}`);
          await sleep(200);
        }
      }
    }),
  );
  const acceptedMs = performance.now() - t0;
  if (roles === 'api') {
    await app.close();
    return { eventsPerSec: NaN, acceptPerSec: total / (acceptedMs / 1000), ms: acceptedMs, totals: { impressions: NaN, clicks: NaN }, errors };
  }
  let totals = await closedTotals(db, topic);
  while (totals.impressions < w.impressions || totals.clicks < w.clicks) {
    await sleep(50);
    totals = await closedTotals(db, topic);
    if (performance.now() - t0 > 600_000) break;
  }
  const ms = performance.now() - t0;
  await app.close();
  return { eventsPerSec: total / (ms / 1000), acceptPerSec: total / (acceptedMs / 1000), ms, totals, errors };
}

async function main() {
  const w = makeWorkload(IMPRESSIONS, EVENT_RATE);
  const all = [...w.events, ...closers(PARTITIONS, w.lastTs + 86_400_000)];
  const messages = all.map((e) => ({ key: e.impressionId, value: encodeEvent(e) }));
  const batches: string[] = [];
  for (let i = 0; i < all.length; i += 1000) batches.push(JSON.stringify({ events: all.slice(i, i + 1000) }));
  console.log(`workload: ${fmt(w.impressions)} impressions + ${fmt(w.clicks)} clicks (+${PARTITIONS} closers) = ${fmt(all.length)} events`);
  const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });

  // STAGES=stream (or e2e) runs a part alone, for profiling; ratios then use the last full run's figures.
  const stages = (process.env.STAGES ?? 'raw,stream,e2e').split(',');
  const raw = stages.includes('raw') ? await baseline(kafka, messages) : { produce: NaN, consume: NaN };
  console.log(`raw kafkajs: produce ${fmt(raw.produce)} msg/s, consume ${fmt(raw.consume)} msg/s`);

  if (stages.includes('gateway')) {
    // The gateway alone (APP_ROLES=api): HTTP batches of 1,000 until the log acknowledged each.
    const g = await endToEnd(w, batches, all.length, 'api');
    console.log(`gateway alone: HTTP accepted ${fmt(g.acceptPerSec)} events/s (${fmt(g.ms)} ms, ${g.errors} 503s retried), ratio to raw produce ${(g.acceptPerSec / raw.produce).toFixed(3)}`);
  }
  if (!stages.includes('stream')) return stages.includes('e2e') ? endToEndOnly() : process.exit(0);
  const st = await streamStage(kafka, w, messages);
  const stOk = st.totals.impressions === w.impressions && st.totals.clicks === w.clicks;
  console.log(
    `stream stage alone: ${fmt(st.eventsPerSec)} events/s (${fmt(st.ms)} ms), ratio to raw consume ${(st.eventsPerSec / raw.consume).toFixed(3)}; ` +
      `from app init ${fmt(st.fromInit)} events/s (ratio ${(st.fromInit / raw.consume).toFixed(3)}); ` +
      `closed windows ${fmt(st.totals.impressions)} imp / ${fmt(st.totals.clicks)} clicks ${stOk ? '= truth' : '!= truth'}; ${st.checkpoints} checkpoints taking ${fmt(st.checkpointMs)} ms in all`,
  );

  if (!stages.includes('e2e')) process.exit(0);
  return endToEndOnly();

  async function endToEndOnly() {
  const e2e = await endToEnd(w, batches, all.length);
  const ok = e2e.totals.impressions === w.impressions && e2e.totals.clicks === w.clicks;
  console.log(
    `end to end: ${fmt(e2e.eventsPerSec)} events/s to closed windows (${fmt(e2e.ms)} ms; HTTP accepted at ${fmt(e2e.acceptPerSec)} events/s, ${e2e.errors} 503s retried), ` +
      `ratio to raw produce ${(e2e.eventsPerSec / raw.produce).toFixed(3)}; closed windows ${ok ? '= truth' : `!= truth ${JSON.stringify(e2e.totals)}`}`,
  );
  process.exit(0);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
