/**
 * The stream stage of ad-analytics, fed by AdStreamConsumer (`ads.events`, consumer group `ads.stream`,
 * worker role), and the owner of that group's partitions: one PartitionProcessor per assigned partition, and writes closed 1-minute windows to PostgreSQL
 * (ad_minute_stats, read by /stats) and Redis (the dashboard).
 *
 * Why a kill -9 at any moment gives exact counts (0 lost, 0 double):
 * - PostgreSQL, not Kafka, holds the consumed offsets. A checkpoint is ONE transaction writing the
 *   windows closed since the last one, the processor snapshot, the next offset to read and the
 *   late/unmatched counters. Dying before COMMIT loses only in-memory progress; the partition's next
 *   owner restores the snapshot and resumes from the stored offset (`resumeFrom`), so the
 *   same events are processed again against the same state and the same windows come out.
 * - Checkpoints are compare-and-set on a per-partition `seq` (a fencing token): a member that lost
 *   the partition in a rebalance, or raced a new owner, fails its commit instead of counting twice.
 * - Redis gets final per-partition values (HSET, idempotent) after the commit; the rows not yet
 *   confirmed there are kept in the checkpoint (outbox) and re-sent when the partition is loaded.
 * - A batch that does not continue exactly from the task's next offset (after a failed or fenced
 *   checkpoint) restarts the subscription, which re-reads every resume point from PostgreSQL.
 * Checkpoints happen every ADS_CHECKPOINT_INTERVAL_MS (0: every batch; stretched up to 30 s while
 * busy when snapshots get expensive, see `due`), on idle ticks, on revocation and on shutdown. Run the role alone with
 * `APP_ROLES=worker APP_MODULES=ad-analytics node dist/src/main.js` (or ts-node src/main.ts).
 */
import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { Clock } from '../../../platform/clock/clock';
import { TopicPartition } from '../../../platform/messaging/event-bus.port';
import { ConsumerControl, EventBatch, PartitionOwner } from '../../../platform/messaging/event-bus.transport';
import { groupName } from '../../../platform/messaging/topics';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { AdAnalyticsConfig, eventsTopic, STREAM_GROUP, streamConfigOf } from '../ad-analytics.config';
import { AdEvent, PartitionProcessor, StreamConfig } from '../domain';
import { CheckpointFenced, CheckpointStore, DashboardSink, PartitionKey } from '../ports/stream-state.port';
import { PartitionTask } from './partition-task';

/** Rows kept for Redis while it is unreachable; beyond this the oldest are dropped (PostgreSQL still has them). */
const MAX_REDIS_BACKLOG = 200_000;
/** Longest a busy partition goes without a checkpoint when pacing stretches the interval. */
const MAX_CHECKPOINT_STRETCH_MS = 30_000;
/** A partition without a batch for this long counts as idle (caught up) and checkpoints unpaced. Under load a
 * busy partition's batches can be a second or two apart, so well above that. */
const IDLE_CHECKPOINT_MS = 5_000;

@Injectable()
export class AdStreamWorker implements PartitionOwner {
  private readonly log = new Logger('ad-analytics.worker');
  private readonly topic: string;
  private readonly groupId: string;
  private readonly streamConfig: StreamConfig;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly loading = new Map<number, Promise<PartitionTask>>();
  private control?: ConsumerControl;
  private restarting?: Promise<void>;
  private closing = false;
  private ticker?: NodeJS.Timeout;
  private ticking = false;
  private readonly tickMs: number;
  private readonly m: {
    events: Counter; late: Counter; unmatched: Counter; malformed: Counter; windows: Counter;
    restarts: Counter; checkpoint: Histogram; watermarkLag: Gauge<'partition'>; pending: Gauge<'partition'>;
  };

  constructor(
    private readonly store: CheckpointStore,
    private readonly sink: DashboardSink,
    private readonly config: AdAnalyticsConfig,
    private readonly clock: Clock,
    metrics: MetricsRegistry,
  ) {
    this.topic = eventsTopic(config);
    this.groupId = groupName(config, STREAM_GROUP);
    this.streamConfig = streamConfigOf(config);
    this.tickMs = Math.max(50, Math.min(1000, Math.floor(Math.min(this.streamConfig.idleTimeoutMs, config.ADS_CHECKPOINT_INTERVAL_MS || 1000) / 2)));
    const registers = [metrics.registry];
    this.m = {
      events: new Counter({ name: 'ads_stream_events_total', help: 'events checkpointed by the stream worker', registers }),
      late: new Counter({ name: 'ads_stream_late_total', help: 'unique events that fell into closed windows (still in the offline report)', registers }),
      unmatched: new Counter({ name: 'ads_stream_unmatched_clicks_total', help: 'clicks whose impression did not arrive within the join TTL', registers }),
      malformed: new Counter({ name: 'ads_stream_malformed_total', help: 'log messages that were not events (skipped)', registers }),
      windows: new Counter({ name: 'ads_stream_window_rows_total', help: 'closed (window, ad) rows written', registers }),
      restarts: new Counter({ name: 'ads_stream_restarts_total', help: 'subscription restarts after a failed or fenced checkpoint', registers }),
      checkpoint: new Histogram({
        name: 'ads_stream_checkpoint_seconds', help: 'checkpoint transaction time', registers,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      }),
      watermarkLag: new Gauge({ name: 'ads_stream_watermark_lag_seconds', help: 'now - watermark per partition', labelNames: ['partition'], registers }),
      pending: new Gauge({ name: 'ads_stream_pending_impressions', help: 'impressions held in join state per partition', labelNames: ['partition'], registers }),
    };
  }

  /** The consumer starts: the idle ticker. */
  onListen(control: ConsumerControl): void {
    this.control = control;
    this.ticker = setInterval(() => void this.tick(), this.tickMs);
    this.ticker.unref();
  }

  /** Shutdown: no new batch is taken; the subscription's close then revokes every partition, and each checkpoints once more. */
  async beforeClose(): Promise<void> {
    this.closing = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.restarting?.catch(() => undefined);
  }

  private key(partition: number): PartitionKey {
    return { groupId: this.groupId, topic: this.topic, partition };
  }

  async resumeFrom(tp: TopicPartition): Promise<string> {
    const task = this.tasks.get(tp.partition);
    if (task && !task.dropped) return task.nextOffset.toString();
    // No checkpoint yet: start at 0, never at the group's Kafka offset (committed after each batch,
    // possibly ahead of a checkpoint that was never written). Kafka resets 0 to the log start.
    return (await this.taskFor(tp.partition)).nextOffset.toString();
  }

  async onRevoked(tps: TopicPartition[]): Promise<void> {
    await Promise.all(
      tps.map(async (tp) => {
        const task = this.tasks.get(tp.partition);
        if (!task) return;
        await task.run(async () => {
          if (task.dropped) return;
          await this.checkpoint(task).catch((e: unknown) => this.log.warn(`checkpoint on revoke of ${tp.partition} failed: ${(e as Error).message}`));
          this.drop(task);
        });
      }),
    );
  }

  /** Loads (once) the partition's checkpoint: snapshot, next offset, seq, and re-sends its dashboard outbox. */
  private taskFor(partition: number): Promise<PartitionTask> {
    const have = this.tasks.get(partition);
    if (have && !have.dropped) return Promise.resolve(have);
    let p = this.loading.get(partition);
    if (!p) {
      p = (async () => {
        const cp = await this.store.load(this.key(partition));
        const proc = cp ? PartitionProcessor.restore(cp.snapshot, cp.changes) : new PartitionProcessor(this.streamConfig);
        const task = new PartitionTask(partition, proc, cp?.nextOffset ?? 0n, cp?.seq ?? 0, this.clock.now());
        // A new partition's first checkpoint: its (empty) snapshot now, and the changes on top of it.
        if (!cp) task.base = proc.snapshot();
        task.snapshotBytes = cp?.snapshot.length ?? task.base!.length;
        task.changesBytes = cp?.changes.reduce((n, c) => n + c.length, 0) ?? 0;
        task.redisBacklog = cp?.lastWindows ?? [];
        this.tasks.set(partition, task);
        await this.pushDashboard(task);
        return task;
      })().finally(() => this.loading.delete(partition));
      this.loading.set(partition, p);
    }
    return p;
  }

  private drop(task: PartitionTask): void {
    task.dropped = true;
    if (this.tasks.get(task.partition) === task) this.tasks.delete(task.partition);
    this.m.pending.remove({ partition: String(task.partition) });
    this.m.watermarkLag.remove({ partition: String(task.partition) });
  }

  /**
   * Returns only when the batch is in the task's state (or was already): every other outcome throws,
   * so the bus neither commits the group's Kafka offset past it nor moves on, and redelivers it.
   */
  async process(batch: EventBatch<AdEvent>): Promise<void> {
    if (this.closing) throw new Error('closing: batch left for the next owner');
    const task = await this.taskFor(batch.partition);
    await task.run(async () => {
      if (task.dropped || this.closing) throw new Error(`partition ${batch.partition}: task dropped; the batch is redelivered`);
      const from = task.nextOffset;
      const last = BigInt(batch.lastOffset);
      if (last < from) return; // already in the state
      const first = BigInt(batch.firstOffset);
      if (first > from && (task.seq > 0 || from > 0n)) {
        // Offsets in between were read into a state that was then discarded: re-read from the checkpoint.
        this.log.warn(`partition ${batch.partition}: batch starts at ${first}, state at ${task.nextOffset}; restarting from checkpoints`);
        this.drop(task);
        this.restart();
        throw new Error(`partition ${batch.partition}: restarting from checkpoints`);
      }
      // A redelivered batch may start inside the state: only offsets from `from` on are new.
      const whole = first >= from;
      const events: AdEvent[] = [];
      for (const m of batch.messages) if (whole || BigInt(m.raw.offset) >= from) events.push(m.data);
      for (const m of batch.rejected) if (whole || BigInt(m.offset) >= from) task.deltas.malformed++;
      const now = this.clock.now();
      task.absorb(task.processor.process(events, now));
      task.deltas.events += events.length;
      task.nextOffset = last + 1n;
      task.dirty = true;
      task.lastBatchAt = now;
      // Caught up with the log's end: like an idle partition, there is no throughput to protect, so the
      // checkpoint is due after the plain interval (fresher windows; a burst still gets paced ones).
      const caughtUp = batch.highWatermark !== undefined && BigInt(batch.highWatermark) <= task.nextOffset;
      task.caughtUp = caughtUp;
      if (!this.due(task, now, caughtUp)) return;
      if (this.config.ADS_CHECKPOINT_INTERVAL_MS === 0) {
        if (!(await this.safeCheckpoint(task))) {
          // Redelivered: the reloaded task resumes from the checkpoint (or restarts the subscription on a gap).
          throw new Error(`partition ${batch.partition}: checkpoint failed; the batch is redelivered`);
        }
      } else if (!task.inflight) {
        this.checkpointInBackground(task);
      }
    });
  }

  /**
   * Every batch when the interval is 0. Otherwise after the interval, stretched while batches keep
   * coming to 9x the last checkpoint's cost times the partitions held (they share one event loop), so
   * full snapshots of a large state take at most ~10 % of the worker's time; capped at
   * MAX_CHECKPOINT_STRETCH_MS, which bounds the replay after a crash. An idle partition (no batch
   * for IDLE_CHECKPOINT_MS) or one whose batch reached the log's end checkpoints after the plain
   * interval: there is no throughput left to protect.
   */
  private due(task: PartitionTask, now: number, idle = false): boolean {
    const interval = this.config.ADS_CHECKPOINT_INTERVAL_MS;
    if (interval === 0) return true;
    if (idle) return now - task.lastCheckpointAt >= interval;
    const paced = Math.min(MAX_CHECKPOINT_STRETCH_MS, 9 * task.lastCheckpointCostMs * this.tasks.size);
    return now - task.lastCheckpointAt >= Math.max(interval, paced);
  }

  /** Idle flush: advances the watermark of partitions without traffic, and checkpoints what is due. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closing) return;
    this.ticking = true;
    try {
      for (const task of [...this.tasks.values()]) {
        await task.run(async () => {
          if (task.dropped || this.closing) return;
          const now = this.clock.now();
          task.absorb(task.processor.onIdle(now));
          // A partition whose last batch reached the log's end is due like an idle one (before, its last
          // checkpoint waited IDLE_CHECKPOINT_MS for the idle rule: most of a short burst's stream stage).
          if (task.dirty && !task.inflight && this.due(task, now, task.caughtUp || now - task.lastBatchAt >= IDLE_CHECKPOINT_MS)) await this.safeCheckpoint(task);
        });
      }
    } finally {
      this.ticking = false;
    }
  }

  /** false when the checkpoint failed; the task is dropped then. */
  private async safeCheckpoint(task: PartitionTask): Promise<boolean> {
    try {
      await this.checkpoint(task);
      return true;
    } catch (e) {
      // The in-memory state is now ahead of (or beside) what is durable: forget it. The next batch
      // reloads the checkpoint, and a gap in offsets restarts the subscription from it.
      if (e instanceof CheckpointFenced) this.log.warn(e.message);
      else this.log.error(`checkpoint of partition ${task.partition} failed: ${(e as Error).message}`);
      this.drop(task);
      return false;
    }
  }

  /**
   * Call inside task.run. Snapshots now (the state at task.nextOffset) and commits while later batches
   * go on: PostgreSQL writing the row was most of a checkpoint's time, and it no longer stalls the
   * consumer. Exactly-once is unchanged: PostgreSQL still holds the only resume point, and a commit
   * that fails or is fenced drops the task and restarts the subscription, so every partition re-reads
   * from its last committed checkpoint (the batches processed meanwhile are discarded with the state).
   */
  private checkpointInBackground(task: PartitionTask): void {
    const p = this.commitCheckpoint(task).catch((e: unknown) => {
      if (e instanceof CheckpointFenced) this.log.warn(e.message);
      else this.log.error(`checkpoint of partition ${task.partition} failed: ${(e as Error).message}`);
      this.drop(task);
      this.restart();
    });
    const inflight: Promise<void> = p.finally(() => {
      if (task.inflight === inflight) task.inflight = undefined;
    });
    task.inflight = inflight;
  }

  /** Call inside task.run: waits for a background checkpoint, then commits one now. */
  private async checkpoint(task: PartitionTask): Promise<void> {
    await task.inflight;
    if (task.dropped) throw new Error(`partition ${task.partition}: a background checkpoint failed`);
    await this.commitCheckpoint(task);
  }

  /**
   * One transaction: closed windows + the processor's changes since the last checkpoint (or a full
   * snapshot) + next offset + counters. A full snapshot is written once the changes stored since the
   * last one add up to its size, so a restore reads at most about twice the state, and the bytes
   * written follow the traffic rather than the state held (full snapshots every time cost 7.3 s of a
   * 7.7 s stream stage at 200k held impressions, issue 14).
   */
  private async commitCheckpoint(task: PartitionTask): Promise<void> {
    if (!task.dirty) return;
    const started = this.clock.now();
    const end = this.m.checkpoint.startTimer();
    const changes = task.changesBytes < task.snapshotBytes ? task.processor.changes() : null;
    const snapshot = changes ?? task.processor.snapshot();
    if (changes) task.changesBytes += changes.length;
    else [task.snapshotBytes, task.changesBytes] = [snapshot.length, 0];
    const c = task.capture();
    const outbox = task.redisBacklog.concat(c.windows);
    const seq = await this.store.commit(this.key(task.partition), {
      expectedSeq: c.expectedSeq,
      nextOffset: c.nextOffset,
      snapshot,
      incremental: changes !== null,
      ...(c.expectedSeq === 0 && changes !== null ? { base: task.base } : {}),
      windows: c.windows,
      outbox: outbox.length > MAX_REDIS_BACKLOG ? outbox.slice(-MAX_REDIS_BACKLOG) : outbox,
      deltas: c.deltas,
    });
    end();
    const d = c.deltas;
    this.m.events.inc(d.events);
    this.m.late.inc(d.late);
    this.m.unmatched.inc(d.unmatched);
    this.m.malformed.inc(d.malformed);
    this.m.windows.inc(c.windows.length);
    const now = this.clock.now();
    task.lastCheckpointCostMs = now - started;
    task.committed(seq, c.windows, now);
    const wm = task.processor.currentWatermark;
    const label = { partition: String(task.partition) };
    if (Number.isFinite(wm)) this.m.watermarkLag.set(label, (now - wm) / 1000);
    this.m.pending.set(label, task.processor.stateSize().impressions);
    await this.pushDashboard(task);
  }

  private async pushDashboard(task: PartitionTask): Promise<void> {
    if (task.redisBacklog.length === 0) return;
    if (task.redisBacklog.length > MAX_REDIS_BACKLOG) task.redisBacklog = task.redisBacklog.slice(-MAX_REDIS_BACKLOG);
    const rows = task.redisBacklog;
    try {
      await this.sink.write(task.partition, rows);
      if (task.redisBacklog === rows) task.redisBacklog = [];
    } catch (e) {
      this.log.warn(`dashboard write for partition ${task.partition} failed (kept for the next checkpoint): ${(e as Error).message}`);
    }
  }

  /**
   * Closes the subscription and subscribes again (the transport): every partition is revoked (a sound
   * task checkpoints, the failed one was dropped already) and resumes from its checkpoint.
   */
  private restart(): void {
    if (this.restarting || this.closing || !this.control) return;
    this.m.restarts.inc();
    this.restarting = this.control.restart().finally(() => (this.restarting = undefined));
  }
}
