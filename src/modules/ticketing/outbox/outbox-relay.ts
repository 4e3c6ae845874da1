import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { EventBus, OutgoingMessage } from '../../../platform/messaging/event-bus.port';
import { withTimeout } from '../../../platform/with-timeout';

const BATCH = 500;
const IDLE_POLL_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const PUBLISH_TIMEOUT_MS = 15_000;

interface OutboxRow {
  seq: string;
  id: string;
  topic: string;
  key: string;
  type: string;
  payload: string;
}

/**
 * Publishes the ticketing outbox (worker role). One batch = one SQL transaction that first takes
 * a transaction-scoped advisory lock for this namespace, so however many workers run, one relay
 * publishes at a time and always the oldest unsent rows first: events of one key (an order) reach
 * Kafka in commit order. Rows are stamped sent only after Kafka acknowledged them (acks=all,
 * idempotent producer); a crash or timeout in between republishes them with the same ids, so
 * delivery is at-least-once and every state change carries one stable id to deduplicate on.
 * A broker outage only delays publication: rows wait in PostgreSQL and the relay backs off.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('ticketing-outbox');
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;
  private poked = false;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.hasRole('worker')) return;
    this.running = true;
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Called after a commit that wrote outbox rows: publish now rather than at the next poll. */
  poke(): void {
    this.poked = true;
    // A poke during a failure backoff must not turn into a tight retry loop.
    if (this.failures === 0) this.wake?.();
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

  /**
   * Publishes up to `limit` unsent rows of this namespace and marks them sent; returns how many.
   * 0 when another relay holds the lock or nothing is waiting. Throws when the log refuses.
   */
  async relayOnce(limit = BATCH): Promise<number> {
    return this.ds.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`, [`ticketing-outbox:${this.config.NAMESPACE}`]);
      if (!locked) return 0;
      const rows: OutboxRow[] = await m.query(
        `SELECT seq, id, topic, key, type, payload FROM ticketing_outbox
         WHERE namespace = $1 AND published_at_ms IS NULL ORDER BY seq LIMIT $2`,
        [this.config.NAMESPACE, limit],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const r of rows) {
        const list = byTopic.get(r.topic) ?? [];
        list.push({ key: r.key, value: r.payload, headers: { type: r.type, 'event-id': r.id } });
        byTopic.set(r.topic, list);
      }
      for (const [topic, messages] of byTopic) {
        await withTimeout(this.bus.publish(topic, messages), PUBLISH_TIMEOUT_MS, `no acknowledgement within ${PUBLISH_TIMEOUT_MS} ms`);
      }
      await m.query(`UPDATE ticketing_outbox SET published_at_ms = $2 WHERE seq = ANY($1::bigint[])`, [
        rows.map((r) => r.seq),
        this.clock.now(),
      ]);
      return rows.length;
    });
  }

  /** Unsent rows of this namespace (health and tests). */
  async backlog(): Promise<number> {
    const [{ n }] = await this.ds.query(`SELECT count(*) AS n FROM ticketing_outbox WHERE namespace = $1 AND published_at_ms IS NULL`, [
      this.config.NAMESPACE,
    ]);
    return Number(n);
  }

  /** Drops rows sent more than `olderThanMs` ago (scheduler role). */
  async prune(olderThanMs = 86_400_000): Promise<number> {
    const res = await this.ds.query(`DELETE FROM ticketing_outbox WHERE published_at_ms < $1 AND namespace = $2`, [
      this.clock.now() - olderThanMs,
      this.config.NAMESPACE,
    ]);
    return Array.isArray(res) && typeof res[1] === 'number' ? res[1] : 0;
  }
}
