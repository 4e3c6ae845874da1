import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ticketing tables. PostgreSQL is the source of truth for inventory: a seat row exists once per
 * (event, seat) and changes status AVAILABLE → HELD → SOLD (or back to AVAILABLE) only inside
 * transactions guarded by its current status, so no seat can be held or sold twice even if the
 * hot counters in the key/value store were wrong. Idempotency uses the platform idempotency_keys.
 */
export class TicketingInit1764000000000 implements MigrationInterface {
  name = 'TicketingInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ticketing_events (
        id               text    PRIMARY KEY,
        name             text    NOT NULL,
        kind             text    NOT NULL CHECK (kind IN ('SEATED', 'GA')),
        starts_at_ms     bigint  NOT NULL,
        sales_open_at_ms bigint,
        hold_ttl_seconds integer NOT NULL CHECK (hold_ttl_seconds > 0),
        max_per_user     integer NOT NULL CHECK (max_per_user > 0),
        capacity         integer NOT NULL CHECK (capacity > 0),
        sections         jsonb   NOT NULL,
        created_at_ms    bigint  NOT NULL
      )`);
    await q.query(`
      CREATE TABLE ticketing_holds (
        id            text    PRIMARY KEY,
        event_id      text    NOT NULL REFERENCES ticketing_events (id),
        user_id       text    NOT NULL,
        quantity      integer NOT NULL CHECK (quantity > 0),
        amount_cents  bigint  NOT NULL,
        status        text    NOT NULL CHECK (status IN ('ACTIVE', 'CHECKOUT', 'CONVERTED', 'RELEASED', 'EXPIRED')),
        expires_at_ms bigint  NOT NULL,
        created_at_ms bigint  NOT NULL
      )`);
    await q.query(`CREATE INDEX ticketing_holds_active_expiry ON ticketing_holds (expires_at_ms) WHERE status = 'ACTIVE'`);
    await q.query(`
      CREATE TABLE ticketing_seats (
        event_id    text    NOT NULL REFERENCES ticketing_events (id),
        seat_id     text    NOT NULL,
        section     text    NOT NULL,
        price_cents bigint  NOT NULL CHECK (price_cents >= 0),
        status      text    NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'HELD', 'SOLD')),
        hold_id     text    REFERENCES ticketing_holds (id),
        PRIMARY KEY (event_id, seat_id),
        CHECK ((status = 'AVAILABLE') = (hold_id IS NULL))
      )`);
    await q.query(`CREATE INDEX ticketing_seats_hold ON ticketing_seats (hold_id)`);
    await q.query(`CREATE INDEX ticketing_seats_status ON ticketing_seats (event_id, status)`);
    await q.query(`
      CREATE TABLE ticketing_orders (
        id             text    PRIMARY KEY,
        hold_id        text    NOT NULL UNIQUE REFERENCES ticketing_holds (id),
        event_id       text    NOT NULL REFERENCES ticketing_events (id),
        user_id        text    NOT NULL,
        amount_cents   bigint  NOT NULL,
        payment_method text    NOT NULL,
        status         text    NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED')),
        failure_reason text,
        payment_ref    text,
        created_at_ms  bigint  NOT NULL,
        updated_at_ms  bigint  NOT NULL
      )`);
    await q.query(`CREATE INDEX ticketing_orders_user ON ticketing_orders (user_id, created_at_ms DESC)`);
    await q.query(`
      CREATE TABLE ticketing_tickets (
        code     text PRIMARY KEY,
        order_id text NOT NULL REFERENCES ticketing_orders (id),
        event_id text NOT NULL,
        seat_id  text NOT NULL,
        UNIQUE (event_id, seat_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ticketing_tickets`);
    await q.query(`DROP TABLE ticketing_orders`);
    await q.query(`DROP TABLE ticketing_seats`);
    await q.query(`DROP TABLE ticketing_holds`);
    await q.query(`DROP TABLE ticketing_events`);
  }
}
