import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ticketing: transactional outbox, the EXPIRED order state and per-namespace ownership.
 *
 * - `ticketing_outbox`: every order state change inserts its event here in the same transaction
 *   as the change; a relay publishes unsent rows in `seq` order to Kafka and stamps them sent.
 *   `id` is the event's stable id (what consumers deduplicate on); `seq` orders the relay.
 * - Orders get a payment deadline (`expires_at_ms`), a `version` (1 = created, +1 per change),
 *   the EXPIRED state, and `void_due`: set in the transaction that ends an order without a sale,
 *   cleared once the payment provider has voided/refunded the order's payment.
 * - Events remember the NAMESPACE that created them, so the reconcilers of apps that share one
 *   database (test runs, tenants) only repair their own inventory.
 */
export class TicketingOutbox1764600000000 implements MigrationInterface {
  name = 'TicketingOutbox1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ticketing_events ADD COLUMN namespace text NOT NULL DEFAULT 'tetrad'`);
    await q.query(`CREATE INDEX ticketing_events_namespace ON ticketing_events (namespace, starts_at_ms)`);

    await q.query(`ALTER TABLE ticketing_orders DROP CONSTRAINT ticketing_orders_status_check`);
    await q.query(
      `ALTER TABLE ticketing_orders ADD CONSTRAINT ticketing_orders_status_check CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'EXPIRED'))`,
    );
    await q.query(`ALTER TABLE ticketing_orders ADD COLUMN expires_at_ms bigint`);
    await q.query(`UPDATE ticketing_orders SET expires_at_ms = created_at_ms + 300000`);
    await q.query(`ALTER TABLE ticketing_orders ALTER COLUMN expires_at_ms SET NOT NULL`);
    await q.query(`ALTER TABLE ticketing_orders ADD COLUMN version integer NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE ticketing_orders ADD COLUMN void_due boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX ticketing_orders_pending_deadline ON ticketing_orders (expires_at_ms) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX ticketing_orders_void_due ON ticketing_orders (updated_at_ms) WHERE void_due`);

    await q.query(`
      CREATE TABLE ticketing_outbox (
        seq             bigserial PRIMARY KEY,
        id              text      NOT NULL UNIQUE,
        namespace       text      NOT NULL,
        topic           text      NOT NULL,
        key             text      NOT NULL,
        type            text      NOT NULL,
        payload         text      NOT NULL,
        created_at_ms   bigint    NOT NULL,
        published_at_ms bigint
      )`);
    await q.query(`CREATE INDEX ticketing_outbox_unsent ON ticketing_outbox (namespace, seq) WHERE published_at_ms IS NULL`);
    await q.query(`CREATE INDEX ticketing_outbox_sent ON ticketing_outbox (published_at_ms) WHERE published_at_ms IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ticketing_outbox`);
    await q.query(`DROP INDEX ticketing_orders_void_due`);
    await q.query(`DROP INDEX ticketing_orders_pending_deadline`);
    await q.query(`ALTER TABLE ticketing_orders DROP COLUMN void_due, DROP COLUMN version, DROP COLUMN expires_at_ms`);
    await q.query(`UPDATE ticketing_orders SET status = 'FAILED', failure_reason = 'expired' WHERE status = 'EXPIRED'`);
    await q.query(`ALTER TABLE ticketing_orders DROP CONSTRAINT ticketing_orders_status_check`);
    await q.query(`ALTER TABLE ticketing_orders ADD CONSTRAINT ticketing_orders_status_check CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED'))`);
    await q.query(`DROP INDEX ticketing_events_namespace`);
    await q.query(`ALTER TABLE ticketing_events DROP COLUMN namespace`);
  }
}
