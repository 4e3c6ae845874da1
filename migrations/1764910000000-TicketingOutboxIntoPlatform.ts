import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ticketing publishes through the platform outbox: its unsent rows move into `outbox` in their
 * order, with the headers the relay sent them with. `ticketing_outbox` itself stays (expand, not
 * contract): processes of the previous version may still write and relay it during a rolling
 * deploy; a row copied here and also relayed there reaches the log twice under one id, which
 * consumers already deduplicate (delivery is at-least-once). A later migration drops it.
 */
export class TicketingOutboxIntoPlatform1764910000000 implements MigrationInterface {
  name = 'TicketingOutboxIntoPlatform1764910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO outbox (namespace, id, topic, key, value, headers, created_at_ms)
      SELECT namespace, id, topic, key, payload, jsonb_build_object('type', type, 'event-id', id), created_at_ms
      FROM ticketing_outbox WHERE published_at_ms IS NULL ORDER BY seq`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM outbox WHERE published_at_ms IS NULL AND id IN (SELECT id FROM ticketing_outbox)`);
  }
}
