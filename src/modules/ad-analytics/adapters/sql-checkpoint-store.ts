import { DataSource, EntityManager } from 'typeorm';
import { exec, select } from '../../../platform/database/rows-of';
import { Injectable } from '@nestjs/common';
import type { WindowAggregate } from '../domain';
import { CheckpointCommit, CheckpointFenced, CheckpointStore, PartitionKey, StoredCheckpoint } from '../ports/stream-state.port';

/**
 * One transaction per checkpoint, so a crash at any point leaves all of it or none; incremental changes
 * go to ad_stream_checkpoint_changes until the next full snapshot replaces them.
 */
@Injectable()
export class SqlCheckpointStore extends CheckpointStore {
  constructor(private readonly db: DataSource) {
    super();
  }

  async load(k: PartitionKey): Promise<StoredCheckpoint | null> {
    const rows = await select<{ next_offset: string; seq: string; snapshot: string; last_windows: WindowAggregate[] }>(this.db,
      'SELECT next_offset, seq, snapshot, last_windows FROM ad_stream_checkpoints WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [k.groupId, k.topic, k.partition],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    const changes = await select<{ changes: string }>(this.db,
      'SELECT changes FROM ad_stream_checkpoint_changes WHERE group_id = $1 AND topic = $2 AND partition = $3 ORDER BY seq',
      [k.groupId, k.topic, k.partition],
    );
    return { nextOffset: BigInt(r.next_offset), seq: Number(r.seq), snapshot: r.snapshot, changes: changes.map((c) => c.changes), lastWindows: r.last_windows ?? [] };
  }

  async commit(k: PartitionKey, c: CheckpointCommit): Promise<number> {
    return this.db.transaction(async (m) => {
      const seq = await this.casCheckpoint(m, k, c);
      // Incremental: the changes go beside the stored snapshot; a full snapshot replaces them.
      await m.query(
        c.incremental
          ? 'INSERT INTO ad_stream_checkpoint_changes (group_id, topic, partition, seq, changes) VALUES ($1, $2, $3, $4, $5)'
          : 'DELETE FROM ad_stream_checkpoint_changes WHERE group_id = $1 AND topic = $2 AND partition = $3',
        c.incremental ? [k.groupId, k.topic, k.partition, seq, c.snapshot] : [k.groupId, k.topic, k.partition],
      );
      if (c.windows.length > 0) {
        // One parameter for all rows (jsonb_to_recordset): no bind-parameter limit, same SQL on PGlite.
        // Absolute values: a partition closes a window once, so rewriting a row changes nothing.
        await m.query(
          `INSERT INTO ad_minute_stats (topic, partition, window_start, window_end, ad_id, campaign_id, impressions, clicks)
           SELECT $1, $2, x."windowStart", x."windowEnd", x."adId", x."campaignId", x.impressions, x.clicks
           FROM jsonb_to_recordset($3::jsonb)
             AS x("windowStart" bigint, "windowEnd" bigint, "adId" text, "campaignId" text, impressions bigint, clicks bigint)
           ON CONFLICT (topic, partition, window_start, ad_id, campaign_id)
           DO UPDATE SET impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, flush_seq = EXCLUDED.flush_seq`,
          [k.topic, k.partition, JSON.stringify(c.windows)],
        );
      }
      const d = c.deltas;
      if (d.events + d.late + d.unmatched + d.malformed > 0) {
        await m.query(
          `INSERT INTO ad_stream_counters (group_id, topic, partition, events, late, unmatched, malformed)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (group_id, topic, partition) DO UPDATE SET
             events = ad_stream_counters.events + EXCLUDED.events, late = ad_stream_counters.late + EXCLUDED.late,
             unmatched = ad_stream_counters.unmatched + EXCLUDED.unmatched,
             malformed = ad_stream_counters.malformed + EXCLUDED.malformed`,
          [k.groupId, k.topic, k.partition, d.events, d.late, d.unmatched, d.malformed],
        );
      }
      return seq;
    });
  }

  /** First statement of the transaction: takes the row lock, so a racing commit waits and then fails its CAS. */
  private async casCheckpoint(m: EntityManager, k: PartitionKey, c: CheckpointCommit): Promise<number> {
    const snapshot = c.incremental ? (c.base ?? null) : c.snapshot;
    if (snapshot === null && c.expectedSeq === 0) throw new Error('the first checkpoint of a partition needs a snapshot (base)');
    const params = [k.groupId, k.topic, k.partition, c.nextOffset.toString(), snapshot, JSON.stringify(c.outbox), c.expectedSeq];
    const { rows } = await exec<{ seq: string }>(
      m,
      c.expectedSeq === 0
        ? `INSERT INTO ad_stream_checkpoints (group_id, topic, partition, next_offset, snapshot, last_windows, seq)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7 + 1)
             ON CONFLICT (group_id, topic, partition) DO NOTHING RETURNING seq`
        : `UPDATE ad_stream_checkpoints SET next_offset = $4, snapshot = COALESCE($5, snapshot), last_windows = $6::jsonb, seq = seq + 1, updated_at = now()
             WHERE group_id = $1 AND topic = $2 AND partition = $3 AND seq = $7 RETURNING seq`,
      params,
    );
    if (rows.length === 0) throw new CheckpointFenced(k, c.expectedSeq);
    return Number(rows[0].seq);
  }
}
