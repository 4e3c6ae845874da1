import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { EventBus } from '../../../platform/messaging/event-bus.port';
import { topicName } from '../../../platform/messaging/topics';
import { GPU_TASKS_TOPIC, NewTaskEvent, TaskEvent, TaskEventRelay } from '../ports/task-events.port';
import { select, Sql } from './sql';

const BATCH = 500;

/**
 * Transactional outbox for `gpu.tasks`: `write` puts events in the same transaction as the
 * state change, `flush` (after commit, and periodically) publishes pending rows and deletes them in
 * one transaction holding the namespace's advisory lock. A crash after the publish but before the
 * delete republishes: at-least-once, in commit order per task, never an event for a rolled-back change.
 */
@Injectable()
export class SqlTaskOutbox extends TaskEventRelay implements OnModuleDestroy {
  private readonly log = new Logger('gpu-events');
  private flushing: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly config: GpuSchedulerConfig,
  ) {
    super();
  }

  /** Writes events in the caller's transaction, in order, in one statement. */
  async write(tx: Sql, events: readonly NewTaskEvent[], nowMs: number): Promise<void> {
    const at = new Date(nowMs).toISOString();
    const values = events.map((e) => JSON.stringify({ eventId: `${e.taskId}:${e.attempt}:${e.type}`, ...e, at } satisfies TaskEvent));
    await tx.query(
      `INSERT INTO gpu_outbox (namespace, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(k, v, i) ORDER BY i`,
      [this.config.NAMESPACE, events.map((e) => e.taskId), values],
    );
  }

  /** Publishes pending events; concurrent calls coalesce into one more pass. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          while ((await this.flushOnce()) === BATCH && !this.closed);
        } while (this.again && !this.closed);
      } catch (e) {
        this.log.warn(`outbox flush failed (will retry): ${(e as Error).message}`);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async flushOnce(): Promise<number> {
    return this.ds.transaction(async (tx) => {
      // One publisher per namespace at a time. Not SKIP LOCKED: a second relay would skip the
      // rows the first holds and publish a task's later event before its earlier one.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`gpu-outbox:${this.config.NAMESPACE}`]);
      const rows = await select<{ seq: string; key: string; value: string }>(
        tx,
        `SELECT seq, key, value FROM gpu_outbox WHERE namespace = $1 ORDER BY seq LIMIT ${BATCH}`,
        [this.config.NAMESPACE],
      );
      if (rows.length === 0) return 0;
      await this.bus.publish(
        topicName(this.config, GPU_TASKS_TOPIC),
        rows.map((r) => ({ key: r.key, value: r.value })),
      );
      await tx.query(`DELETE FROM gpu_outbox WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
      return rows.length;
    });
  }

  async onModuleDestroy(): Promise<void> {
    // Let an in-flight publish finish; whatever is left is published by the next process.
    await this.flushing;
    this.closed = true;
  }
}
