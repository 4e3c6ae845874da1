import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hold strategies and the waiting room (additive; existing rows keep NULLs):
 * - ticketing_holds.idempotency_key / request_hash / seat_ids: the Redis hold path records a hold's
 *   Idempotency-Key in the very statement that inserts the hold, so the key and the hold commit
 *   together (no separate idempotency_keys round trips on the hot path). The partial unique index
 *   makes a second hold under one key impossible even if the key/value store lost its claims.
 *   seat_ids keeps the places the client was answered, so a replay after a release still returns
 *   the original answer.
 * - ticketing_holds (event_id, user_id): the per-user count of the PostgreSQL strategy and rebuilds.
 * - ticketing_events.waiting_room: `{ enabled, admitPerSecond }` or NULL (no room).
 */
export class TicketingHoldKeysWaitingRoom1764700000000 implements MigrationInterface {
  name = 'TicketingHoldKeysWaitingRoom1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ticketing_holds ADD COLUMN idempotency_key text, ADD COLUMN request_hash text, ADD COLUMN seat_ids text[]`);
    await q.query(`CREATE UNIQUE INDEX ticketing_holds_idempotency_key ON ticketing_holds (idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX ticketing_holds_keyed_created ON ticketing_holds (created_at_ms) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX ticketing_holds_event_user ON ticketing_holds (event_id, user_id)`);
    await q.query(`ALTER TABLE ticketing_events ADD COLUMN waiting_room jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ticketing_events DROP COLUMN waiting_room`);
    await q.query(`DROP INDEX ticketing_holds_event_user`);
    await q.query(`DROP INDEX ticketing_holds_keyed_created`);
    await q.query(`DROP INDEX ticketing_holds_idempotency_key`);
    await q.query(`ALTER TABLE ticketing_holds DROP COLUMN seat_ids, DROP COLUMN request_hash, DROP COLUMN idempotency_key`);
  }
}
