import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The platform's one transactional outbox (src/platform/outbox/outbox.ts): `outbox` holds every
 * module's events, written in the transaction of the state change they report and published by
 * one relay per namespace in `seq` order; `published_at_ms` stamps a sent row, which is deleted
 * after the retention. The modules' own tables (`ticketing_outbox`, `gpu_outbox`) move in here, each
 * in the migration of the change that switches its module over.
 */
export class PlatformOutbox1764900000000 implements MigrationInterface {
  name = 'PlatformOutbox1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        seq             bigserial PRIMARY KEY,
        namespace       text      NOT NULL,
        id              text      NOT NULL,
        topic           text      NOT NULL,
        key             text      NOT NULL,
        value           text      NOT NULL,
        headers         jsonb,
        created_at_ms   bigint    NOT NULL,
        published_at_ms bigint
      )`);
    await q.query(`CREATE INDEX outbox_unsent ON outbox (namespace, seq) WHERE published_at_ms IS NULL`);
    await q.query(`CREATE INDEX outbox_sent ON outbox (namespace, published_at_ms) WHERE published_at_ms IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
  }
}
