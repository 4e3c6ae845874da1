import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { EventBus } from '../../../platform/messaging/event-bus.port';
import { topicName } from '../../../platform/messaging/topics';
import type { PlacementView, TaskStatus } from '../gpu-scheduler.types';
import { select, Sql } from './sql-rows';

export const GPU_TASKS_TOPIC = 'gpu.tasks';
const BATCH = 500;

/** One lifecycle event on `gpu.tasks`, keyed by taskId (so a task's events stay in order). */
export interface TaskEvent {
  /** `${taskId}:${attempt}:${type}`: consumers dedupe on it (delivery is at-least-once). */
  eventId: string;
  type: 'QUEUED' | 'SCHEDULED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REQUEUED';
  taskId: string;
  attempt: number;
  status: TaskStatus;
  userId: string;
  tier: string;
  placement: PlacementView[];
  reason?: string;
  at: string;
}

/**
 * Transactional outbox for `gpu.tasks`: `record` writes the event in the same transaction as the
 * state change, `flush` (after commit, and periodically) publishes pending rows and deletes them in
 * one transaction holding the namespace's advisory lock. A crash after the publish but before the
 * delete republishes: at-least-once, in commit order per task, never an event for a rolled-back change.
 */
@Injectable()
export class TaskEvents implements OnModuleDestroy {
  private readonly log = new Logger('gpu-events');
  private flushing: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly config: AppConfig,
  ) {}

  async record(tx: Sql, e: Omit<TaskEvent, 'eventId' | 'at'>, nowMs: number): Promise<void> {
    await this.recordAll(tx, [e], nowMs);
  }

  /** Several events in one statement (a binding batch), in order. */
  async recordAll(tx: Sql, events: readonly Omit<TaskEvent, 'eventId' | 'at'>[], nowMs: number): Promise<void> {
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
