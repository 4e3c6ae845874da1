/**
 * Ad-analytics offline path: archiver throughput and T+1 report build time for N events.
 *   npx ts-node --transpile-only bench/ad-analytics/offline-report.bench.ts          (EVENTS=500000, KAFKA=on)
 * Workload: EVENTS events over one UTC day (event time in order), impressions over 10,000 ads with Zipf(1)
 * skew, 1 % CTR (click 0-30 s after), 0.5 % duplicate deliveries, keyed by impressionId over 6 partitions.
 * 1. Archiver (AdEventArchiver, the production class: decode, gzip, fsync + rename, checkpoint) reading
 *    (a) the in-process log (embedded profile) and (b) Kafka on 127.0.0.1:9092 (full profile), from the first
 *    offset until every record is durable. Baselines in the same run: gzip + write of the same lines in one
 *    pass (the archive's I/O floor), and a no-op consumer group reading the same topic through the same
 *    EventBus port (Kafka's delivery floor).
 * 2. Report build of that day from the archive written in 1a: listing + gunzip + parse, then the
 *    DailyReportBuilder (exact view + on-time stream replay), then the SQL save into PostgreSQL
 *    (database `test`, rows removed afterwards) when it answers.
 */
import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config/app-config';
import { AdEvent, DEFAULT_STREAM_CONFIG, encodeEvent } from '../../src/modules/ad-analytics/domain';
import { FsArchiveStore } from '../../src/modules/ad-analytics/adapters/fs-archive-store';
import { AdEventArchiver } from '../../src/modules/ad-analytics/application/event-archiver.service';
import { AdArchiveConsumer } from '../../src/modules/ad-analytics/jobs/ad-archive.consumer';
import { EventBusTransport } from '../../src/platform/messaging/event-bus.transport';
import { DailyReportBuilder, DAY_MS, parseDay } from '../../src/modules/ad-analytics/domain';
import { SqlReportRepository } from '../../src/modules/ad-analytics/adapters/sql-report-repository';
import { PostgresSqlDatabase } from '../../src/platform/database/postgres-sql-database';
import { EventBus, OutgoingMessage } from '../../src/platform/messaging/event-bus.port';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';
import { MemoryEventBus } from '../../src/platform/messaging/memory-event-bus';
import { MetricsRegistry } from '../../src/platform/metrics/metrics';
import { zipfPicker } from './workload';

const EVENTS = Number(process.env.EVENTS ?? 500_000);
const KAFKA = (process.env.KAFKA ?? 'on') !== 'off';
const PARTITIONS = 6;
const ADS = 10_000;
const DATE = '2030-06-01';
const DAY = parseDay(DATE)!;
Logger.overrideLogger(false);

let seed = 4242;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const pickAd = zipfPicker(ADS, rnd);

function workload(n: number): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  const step = DAY_MS / n;
  for (let i = 0; out.length < n; i++) {
    const ad = pickAd();
    const e: AdEvent = { type: 'impression', impressionId: `imp-${i.toString(36)}-${(i * 2654435761) % 1e9}`, adId: `ad${ad}`, campaignId: `c${ad % 100}`, ts: Math.floor(DAY + i * step) };
    const m = { key: e.impressionId, value: encodeEvent(e) };
    out.push(m);
    if (rnd() < 0.005) out.push(m);
    if (rnd() < 0.01) out.push({ key: e.impressionId, value: encodeEvent({ ...e, type: 'click', ts: e.ts + Math.floor(rnd() * 30_000) }) });
  }
  return out.slice(0, n);
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (x: number) => x.toLocaleString('en-US');

async function archive(bus: EventBus, dir: string, ns: string, n: number): Promise<number> {
  const config = loadConfig({ APP_ROLES: 'worker', NAMESPACE: ns, ADS_ARCHIVE_DIR: dir, ADS_ARCHIVE_ROLL_EVENTS: '50000', ADS_ARCHIVE_ROLL_MS: '250', LOG_LEVEL: 'silent', KAFKA_PARTITIONS: String(PARTITIONS) });
  const metrics = new MetricsRegistry();
  const archiver = new AdEventArchiver(config, metrics, FsArchiveStore.forConfig(config, bus.logId));
  const archived = async () => (await metrics.registry.getSingleMetric('ads_archive_records_total')!.get()).values[0]?.value ?? 0;
  // The production consumer on the production transport, without the rest of the application.
  @Module({ controllers: [AdArchiveConsumer], providers: [{ provide: AdEventArchiver, useValue: archiver }] })
  class ArchiverOnly {}
  const strategy = new EventBusTransport(bus, config, metrics, () => archiver as never);
  const app = await NestFactory.createMicroservice(ArchiverOnly, { strategy, logger: false });
  const t0 = performance.now();
  await app.listen();
  while ((await archived()) < n) await new Promise((r) => setTimeout(r, 10));
  const ms = performance.now() - t0;
  await app.close();
  return ms;
}

async function noopConsume(bus: EventBus, topic: string, group: string, n: number): Promise<number> {
  let seen = 0;
  const t0 = performance.now();
  const sub = await bus.subscribe({ groupId: group, topics: [topic], handleBatch: async (b) => void (seen += b.messages.length) });
  while (seen < n) await new Promise((r) => setTimeout(r, 10));
  const ms = performance.now() - t0;
  await sub.close();
  return ms;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const msgs = workload(EVENTS);
  const ns = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const topic = `${ns}.ads.events`;
  console.log(`events: ${fmt(msgs.length)} (${fmt(msgs.reduce((s, m) => s + m.value.length, 0))} bytes of values)`);

  // Baseline: one gzip + write of all lines, no decode, no per-partition files, no fsync protocol.
  const floorDir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
  let t0 = performance.now();
  writeFileSync(join(floorDir, 'all.jsonl.gz'), gzipSync(Buffer.from(msgs.map((m, i) => `{"p":0,"o":"${i}","t":0,"e":${m.value}}`).join('\n'))));
  const floorMs = performance.now() - t0;
  rmSync(floorDir, { recursive: true, force: true });
  rows.push(`| baseline: gzip + write all lines in one pass | ${fmt(rate(msgs.length, floorMs))} | ${floorMs.toFixed(0)} | 1 |`);

  // 1a. archiver over the in-process log
  const memDir = mkdtempSync(join(tmpdir(), 'bench-archive-'));
  const mem = new MemoryEventBus(PARTITIONS);
  await mem.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
  for (let i = 0; i < msgs.length; i += 5000) await mem.publish(topic, msgs.slice(i, i + 5000));
  const memMs = await archive(mem, memDir, ns, msgs.length);
  await mem.close();
  rows.push(`| archiver, in-process log (embedded) | ${fmt(rate(msgs.length, memMs))} | ${memMs.toFixed(0)} | ${(floorMs / memMs).toFixed(2)} |`);

  // 1b. archiver over Kafka
  if (KAFKA) {
    const kafka = new KafkaEventBus({ brokers: ['127.0.0.1:9092'], clientId: ns, defaultPartitions: PARTITIONS, replicationFactor: 1 });
    await kafka.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
    t0 = performance.now();
    for (let i = 0; i < msgs.length; i += 2000) await kafka.publish(topic, msgs.slice(i, i + 2000));
    const produceMs = performance.now() - t0;
    const noopMs = await noopConsume(kafka, topic, `${ns}.noop`, msgs.length);
    const kDir = mkdtempSync(join(tmpdir(), 'bench-archive-k-'));
    const kMs = await archive(kafka, kDir, ns, msgs.length);
    rows.push(`| (produce to Kafka, batches of 2,000, acks=all; not part of the ratio) | ${fmt(rate(msgs.length, produceMs))} | ${produceMs.toFixed(0)} | |`);
    rows.push(`| baseline: no-op consumer group over Kafka (EventBus port) | ${fmt(rate(msgs.length, noopMs))} | ${noopMs.toFixed(0)} | 1 |`);
    rows.push(`| archiver over Kafka (full) | ${fmt(rate(msgs.length, kMs))} | ${kMs.toFixed(0)} | ${(noopMs / kMs).toFixed(2)} |`);
    rmSync(kDir, { recursive: true, force: true });
    await kafka.close();
  }

  // 2. report build from the archive of 1a
  const store = new FsArchiveStore(memDir, topic);
  t0 = performance.now();
  const files = await store.filesForDay(DAY, DEFAULT_STREAM_CONFIG.ttlMs);
  const perPartition: Parameters<DailyReportBuilder['addPartition']>[0][] = [];
  let nFiles = 0;
  for (const [, paths] of files) {
    const recs = [];
    for (const p of paths) {
      nFiles++;
      for (const r of (await store.readFile(p)).records) recs.push(r);
    }
    perPartition.push(recs);
  }
  const readMs = performance.now() - t0;
  t0 = performance.now();
  const builder = new DailyReportBuilder(DAY, DEFAULT_STREAM_CONFIG);
  for (const recs of perPartition) builder.addPartition(recs);
  const report = builder.result();
  const buildMs = performance.now() - t0;
  const total = report.recordsRead;
  rows.push(`| report: list + gunzip + parse ${fmt(nFiles)} files | ${fmt(rate(total, readMs))} | ${readMs.toFixed(0)} | |`);
  rows.push(`| report: DailyReportBuilder (exact + on-time replay), ${fmt(report.cells.length)} cells | ${fmt(rate(total, buildMs))} | ${buildMs.toFixed(0)} | |`);
  try {
    const db = new PostgresSqlDatabase({ url: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', poolSize: 2 });
    await db.open();
    const repo = new SqlReportRepository(db.dataSource, loadConfig({ NAMESPACE: ns }));
    t0 = performance.now();
    await repo.save(DATE, report, { buildMs, filesRead: nFiles, recordsSkipped: 0 });
    const saveMs = performance.now() - t0;
    rows.push(`| report: SQL save (PostgreSQL, one transaction) | ${fmt(rate(report.cells.length, saveMs))} cells/s | ${saveMs.toFixed(0)} | |`);
    await db.dataSource.query('DELETE FROM ad_report_days WHERE topic = $1', [topic]);
    await db.close();
  } catch (e) {
    rows.push(`| report: SQL save skipped (${(e as Error).message.slice(0, 60)}) | | | |`);
  }
  rmSync(memDir, { recursive: true, force: true });
  console.log(`report: impressions ${fmt(report.cells.reduce((s, c) => s + c.impressions, 0))}, clicks ${fmt(report.cells.reduce((s, c) => s + c.clicks, 0))}, duplicates ${fmt(report.duplicates)}, unmatched ${report.unmatchedClicks}`);
  console.log('\n| stage | events/s | ms | ratio vs its baseline |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
