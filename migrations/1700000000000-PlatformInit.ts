import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Platform tables shared by every module. Written in plain SQL that both PostgreSQL and PGlite
 * run unchanged (no extensions), since both profiles apply this same file.
 */
export class PlatformInit1700000000000 implements MigrationInterface {
  name = 'PlatformInit1700000000000';

  async up(q: QueryRunner): Promise<void> {
    // Replays of a request with the same Idempotency-Key within a scope (api key, route) return
    // the stored response; request_hash catches a key reused for a different body.
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope        text        NOT NULL,
        key          text        NOT NULL,
        request_hash text        NOT NULL,
        status       text        NOT NULL,
        response     jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
      )`);
    // The sweeper deletes expired rows by expires_at.
    await q.query(`CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
