import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Incremental checkpoints of the ad stream (issue 14): a checkpoint writes only what changed in the
 * partition's state since the previous one, beside the last full snapshot (ad_stream_checkpoints);
 * a full snapshot deletes them. Restore = snapshot + these changes in seq order. Additive.
 */
export class AdStreamCheckpointChanges1765000000000 implements MigrationInterface {
  name = 'AdStreamCheckpointChanges1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ad_stream_checkpoint_changes (
        group_id  text    NOT NULL,
        topic     text    NOT NULL,
        partition integer NOT NULL,
        seq       bigint  NOT NULL,
        changes   text    NOT NULL,
        PRIMARY KEY (group_id, topic, partition, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE ad_stream_checkpoint_changes');
  }
}
