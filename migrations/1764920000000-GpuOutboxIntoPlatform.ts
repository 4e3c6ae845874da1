import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The GPU scheduler publishes `gpu.tasks` through the platform outbox: gpu_outbox's unsent rows move
 * into `outbox` in their order (id = the event's eventId, topic as topicName names it). `gpu_outbox`
 * itself stays (expand, not contract) for processes of the previous version during a rolling deploy;
 * an event relayed from both reaches the log twice under one eventId, which consumers deduplicate
 * (delivery is at-least-once). A later migration drops it.
 */
export class GpuOutboxIntoPlatform1764920000000 implements MigrationInterface {
  name = 'GpuOutboxIntoPlatform1764920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO outbox (namespace, id, topic, key, value, created_at_ms)
      SELECT namespace, value::jsonb->>'eventId', CASE WHEN namespace = 'tetrad' THEN 'gpu.tasks' ELSE namespace || '.gpu.tasks' END,
             key, value, (extract(epoch FROM (value::jsonb->>'at')::timestamptz) * 1000)::bigint
      FROM gpu_outbox ORDER BY seq`);
    await q.query(`DELETE FROM gpu_outbox`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO gpu_outbox (namespace, key, value)
      SELECT namespace, key, value FROM outbox WHERE published_at_ms IS NULL AND topic LIKE '%gpu.tasks' ORDER BY seq`);
    await q.query(`DELETE FROM outbox WHERE published_at_ms IS NULL AND topic LIKE '%gpu.tasks'`);
  }
}
