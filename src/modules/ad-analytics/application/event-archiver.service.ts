import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { IncomingMessage, TopicPartition } from '../../../platform/messaging/event-bus.port';
import { EventBatch, PartitionOwner } from '../../../platform/messaging/event-bus.transport';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { AdAnalyticsConfig } from '../ad-analytics.config';
import { AdEvent, hourDir, INVALID_DIR } from '../domain';
import { ArchiveStore, LostPartition } from '../ports/archive-store.port';

interface PartitionState {
  epoch: number;
  /** first offset not yet durable in the archive (the checkpoint's next) */
  durableNext: bigint;
  /** next offset to read: everything below it is durable or buffered */
  next: bigint;
  lines: Map<string, string[]>;
  buffered: number;
  oldestAt: number;
  /** serialises batches, timer flushes and shutdown flushes of one partition */
  chain: Promise<void>;
}

/**
 * Copies every raw `ads.events` record into the archive, fed by AdArchiveConsumer (worker role; its own
 * consumer group, so it neither slows nor depends on the stream job), and owns that group's partitions. Records are buffered per partition and written as one
 * compressed file per event-time hour when the buffer reaches ADS_ARCHIVE_ROLL_EVENTS records or
 * ADS_ARCHIVE_ROLL_MS of age. The archive's own per-partition checkpoint — written after the files are
 * durable — is the resume point (`resumeFrom`), not the group's committed offset, which runs ahead of
 * the buffer: a crash loses only unflushed buffers, and those offsets are read again.
 */
@Injectable()
export class AdEventArchiver implements PartitionOwner {
  private readonly log = new Logger('ads.archiver');
  private timer?: NodeJS.Timeout;
  private readonly parts = new Map<number, PartitionState>();
  private readonly m: { records: Counter; invalid: Counter; flushes: Histogram; buffered: Gauge<'partition'> };

  constructor(
    private readonly config: AdAnalyticsConfig,
    metrics: MetricsRegistry,
    private readonly store: ArchiveStore,
  ) {
    const registers = [metrics.registry];
    this.m = {
      records: new Counter({ name: 'ads_archive_records_total', help: 'raw records made durable in the archive', registers }),
      invalid: new Counter({ name: 'ads_archive_invalid_total', help: 'records archived under _invalid (not events)', registers }),
      flushes: new Histogram({ name: 'ads_archive_flush_seconds', help: 'one partition flush: gzip, fsync, renames, checkpoint', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
      buffered: new Gauge({ name: 'ads_archive_buffered_records', help: 'records read but not yet durable, per partition', labelNames: ['partition'], registers }),
    };
  }

  /** The consumer starts: the age-based flush timer. */
  onListen(): void {
    const every = Math.max(50, Math.min(1000, Math.floor(this.config.ADS_ARCHIVE_ROLL_MS / 2)));
    this.timer = setInterval(() => this.flushDue(false), every);
    this.timer.unref();
  }

  /** Graceful stop, before the subscription closes: buffers become files while the partitions are still ours. */
  async beforeClose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushDue(true);
  }

  /** One batch of a partition, in order with that partition's flushes. */
  append(batch: EventBatch<AdEvent>, isOwned: () => boolean): Promise<void> {
    return this.serial(batch.partition, () => this.onBatch(batch, isOwned));
  }

  private serial(partition: number, fn: () => Promise<void>): Promise<void> {
    const st = this.parts.get(partition);
    if (!st) return fn();
    const run = st.chain.then(fn);
    st.chain = run.catch(() => undefined);
    return run;
  }

  async resumeFrom(tp: TopicPartition): Promise<string> {
    const cur = this.parts.get(tp.partition);
    if (cur) return cur.next.toString(); // still ours after a rebalance: keep the buffer, no re-read
    const cp = await this.store.recover(tp.partition);
    this.parts.set(tp.partition, {
      epoch: cp.epoch,
      durableNext: BigInt(cp.next),
      next: BigInt(cp.next),
      lines: new Map(),
      buffered: 0,
      oldestAt: 0,
      chain: Promise.resolve(),
    });
    return cp.next;
  }

  /** Lost partitions drop their buffers: not durable, not checkpointed, so the next owner reads them again. */
  onRevoked(tps: TopicPartition[]): void {
    for (const tp of tps) this.parts.delete(tp.partition);
  }

  private async onBatch(batch: EventBatch<AdEvent>, isOwned: () => boolean): Promise<void> {
    let st = this.parts.get(batch.partition);
    if (!st) {
      await this.resumeFrom(batch);
      st = this.parts.get(batch.partition)!;
    }
    const from = st.next; // below it: redelivered, already buffered or durable
    for (const { data, raw: m } of batch.messages) {
      // The value is a valid event's JSON already, so it is embedded verbatim rather than re-serialised.
      if (BigInt(m.offset) >= from) this.buffer(st, hourDir(data.ts), m, `{"p":${m.partition},"o":"${m.offset}","t":${m.timestamp},"e":${m.value}}`);
    }
    // What the stream job's decoder rejects goes to _invalid, not into the report.
    for (const m of batch.rejected) {
      if (BigInt(m.offset) < from) continue;
      this.buffer(st, INVALID_DIR, m, JSON.stringify({ p: m.partition, o: m.offset, t: m.timestamp, raw: m.value }));
      this.m.invalid.inc();
    }
    this.m.buffered.set({ partition: String(batch.partition) }, st.buffered);
    if (st.buffered >= this.config.ADS_ARCHIVE_ROLL_EVENTS || this.due(st)) await this.flush(batch.partition, st, isOwned);
  }

  private buffer(st: PartitionState, dir: string, m: IncomingMessage, line: string): void {
    let list = st.lines.get(dir);
    if (!list) st.lines.set(dir, (list = []));
    list.push(line);
    if (st.buffered++ === 0) st.oldestAt = Date.now();
    const next = BigInt(m.offset) + 1n;
    if (next > st.next) st.next = next;
  }

  private due(st: PartitionState): boolean {
    return st.buffered > 0 && Date.now() - st.oldestAt >= this.config.ADS_ARCHIVE_ROLL_MS;
  }

  private flushDue(all: boolean): Promise<void> {
    const work = [...this.parts.entries()]
      .filter(([, st]) => (all ? st.buffered > 0 : this.due(st)))
      .map(([p]) =>
        this.serial(p, async () => {
          const st = this.parts.get(p);
          if (st && (all ? st.buffered > 0 : this.due(st))) await this.flush(p, st, () => this.parts.get(p) === st);
        }).catch((e: unknown) => this.log.warn(`partition ${p}: flush failed: ${(e as Error).message}`)),
      );
    return Promise.all(work).then(() => undefined);
  }

  private async flush(partition: number, st: PartitionState, isOwned: () => boolean): Promise<void> {
    if (st.buffered === 0) return;
    if (!isOwned()) throw new LostPartition(partition);
    const n = st.buffered;
    const timer = this.m.flushes.startTimer();
    try {
      await this.store.flush(partition, st.epoch, st.durableNext.toString(), st.next.toString(), st.lines);
      timer();
    } catch (e) {
      if (e instanceof LostPartition) this.parts.delete(partition);
      throw e;
    }
    st.durableNext = st.next;
    st.lines = new Map();
    st.buffered = 0;
    this.m.records.inc(n);
    this.m.buffered.set({ partition: String(partition) }, 0);
  }
}
