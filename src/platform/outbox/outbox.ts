import { BeforeApplicationShutdown, Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { configSlice, provideConfigSlice } from '../../config/config-slice';
import { Clock } from '../clock/clock';
import { exec, select, Sql } from '../database/rows-of';
import { EventBus, OutgoingMessage } from '../messaging/event-bus.port';
import { withTimeout } from '../with-timeout';

const BATCH = 500;
const IDLE_POLL_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const PUBLISH_TIMEOUT_MS = 15_000;
/** The one cleanup policy: published rows stay this long (to inspect what was sent), then go. */
export const OUTBOX_RETENTION_MS = 86_400_000;
const PRUNE_EVERY_MS = 60_000;

/** One event to publish, written by the transaction that made the state change it reports. */
export interface OutboxMessage extends OutgoingMessage {
  /** Stable event id: the same on every (re)publication, what consumers deduplicate on. */
  id: string;
  /** Log-wide topic name (already namespaced, see topicName). */
  topic: string;
}

export class OutboxConfig extends configSlice('NAMESPACE', 'hasRole') {}

interface Row {
  seq: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string> | null;
}

/**
 * The one transactional outbox (table `outbox`, PostgreSQL and PGlite alike). `append` writes events
 * inside the caller's transaction: an event exists if and only if its state change committed. The
 * relay publishes the namespace's unsent rows oldest first, one batch per SQL transaction holding the
 * namespace's advisory lock, so however many processes run one publishes at a time and the events of
 * one key reach the log in commit order; rows are stamped sent only after the log acknowledged them
 * (a crash in between republishes them with the same ids: at-least-once). A log outage only delays
 * publication: rows wait and the relay backs off. Sent rows are deleted after OUTBOX_RETENTION_MS.
 * The relay loop runs in the worker role; `poke()` after a commit publishes at once — through the
 * loop where it runs, else by one pass here (waiting for the lock), so events never wait for a poll.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('outbox');
  private running = false;
  private closed = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;
  private poked = false;
  private draining?: Promise<void>;
  private again = false;
  private prunedAt = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly config: OutboxConfig,
    private readonly clock: Clock,
  ) {}

  /** Writes `messages`, in order, in the caller's transaction `tx`. */
  async append(tx: Sql, ...messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const col = (f: (m: OutboxMessage) => string | null) => messages.map(f);
    await tx.query(
      `INSERT INTO outbox (namespace, id, topic, key, value, headers, created_at_ms)
       SELECT $1, id, topic, key, value, headers::jsonb, $2
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS m(id, topic, key, value, headers, i) ORDER BY i`,
      [this.config.NAMESPACE, this.clock.now(), col((m) => m.id), col((m) => m.topic), col((m) => m.key), col((m) => m.value), col((m) => (m.headers ? JSON.stringify(m.headers) : null))],
    );
  }

  /** Called after a commit that appended: publish now rather than at the next poll. */
  poke(): void {
    if (this.closed) return;
    if (!this.running) {
      void this.drain();
      return;
    }
    this.poked = true;
    // A poke during a failure backoff must not turn into a tight retry loop.
    if (this.failures === 0) this.wake?.();
  }

  /** Unsent rows of this namespace, of one topic if given (health, metrics and tests). */
  async backlog(topic?: string): Promise<number> {
    const [{ n }] = await select<{ n: string }>(
      this.ds,
      `SELECT count(*) AS n FROM outbox WHERE namespace = $1 AND published_at_ms IS NULL AND ($2::text IS NULL OR topic = $2)`,
      [this.config.NAMESPACE, topic ?? null],
    );
    return Number(n);
  }

  /**
   * Publishes up to `limit` unsent rows of this namespace and stamps them sent; returns how many.
   * 0 when nothing waits, or when another relay holds the lock and `wait` is false. Throws when the log refuses.
   */
  async relayOnce(limit = BATCH, wait = false): Promise<number> {
    return this.ds.transaction(async (tx) => {
      const lock = `outbox:${this.config.NAMESPACE}`;
      if (wait) await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [lock]);
      else if (!(await select<{ locked: boolean }>(tx, `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`, [lock]))[0].locked) return 0;
      const rows = await select<Row>(
        tx,
        `SELECT seq, topic, key, value, headers FROM outbox WHERE namespace = $1 AND published_at_ms IS NULL ORDER BY seq LIMIT $2`,
        [this.config.NAMESPACE, limit],
      );
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const r of rows) {
        const list = byTopic.get(r.topic) ?? byTopic.set(r.topic, []).get(r.topic)!;
        list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) });
      }
      for (const [topic, messages] of byTopic) {
        await withTimeout(this.bus.publish(topic, messages), PUBLISH_TIMEOUT_MS, `no acknowledgement within ${PUBLISH_TIMEOUT_MS} ms`);
      }
      const now = this.clock.now();
      if (rows.length > 0) await tx.query(`UPDATE outbox SET published_at_ms = $2 WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq), now]);
      if (now - this.prunedAt >= PRUNE_EVERY_MS) {
        this.prunedAt = now;
        await this.prune(tx, now - OUTBOX_RETENTION_MS);
      }
      return rows.length;
    });
  }

  /** Deletes this namespace's rows sent before `beforeMs`; returns how many. */
  async prune(tx: Sql = this.ds, beforeMs = this.clock.now() - OUTBOX_RETENTION_MS): Promise<number> {
    return (await exec(tx, `DELETE FROM outbox WHERE namespace = $1 AND published_at_ms < $2`, [this.config.NAMESPACE, beforeMs])).count;
  }

  onApplicationBootstrap(): void {
    if (!this.config.hasRole('worker')) return;
    this.running = true;
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.closed = true;
    this.wake?.();
    // Let an in-flight publish finish; whatever is left is published by the next process.
    await Promise.all([this.loop, this.draining]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sent = 0;
      this.poked = false;
      try {
        sent = await this.relayOnce();
        if (this.failures > 0) this.log.log(`publishing again after ${this.failures} failed attempt(s)`);
        this.failures = 0;
      } catch (e) {
        this.failures++;
        if (this.failures === 1 || this.failures % 20 === 0) this.log.warn(`outbox publish failed (${this.failures}x): ${(e as Error).message}`);
      }
      if (sent === BATCH || !this.running || (this.poked && this.failures === 0)) continue;
      const wait = this.failures > 0 ? Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures) : IDLE_POLL_MS;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }

  /** Without a loop here: publish until nothing waits; concurrent pokes coalesce into one more pass. */
  private drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.again = false;
          while ((await this.relayOnce(BATCH, true)) === BATCH);
        } while (this.again);
      } catch (e) {
        this.log.warn(`outbox publish failed (the next poke or worker retries): ${(e as Error).message}`);
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }
}

/** Import where a module appends events; one Outbox per process whichever modules import it. */
@Module({ providers: [Outbox, provideConfigSlice(OutboxConfig)], exports: [Outbox] })
export class OutboxModule {}
