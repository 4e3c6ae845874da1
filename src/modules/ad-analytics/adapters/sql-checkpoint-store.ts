import { DataSource, EntityManager } from 'typeorm';
import type { WindowAggregate } from '../domain';

export interface PartitionKey {
  groupId: string;
  topic: string;
  partition: number;
}

export interface StoredCheckpoint {
  nextOffset: bigint;
  /** fencing token: every commit must name the seq it started from */
  seq: number;
  snapshot: string;
  /** dashboard outbox: rows committed here whose Redis write is not confirmed */
  lastWindows: WindowAggregate[];
}

export interface CheckpointCommit {
  expectedSeq: number;
  nextOffset: bigint;
  snapshot: string;
  /** closed windows since the previous checkpoint (written to ad_minute_stats) */
  windows: WindowAggregate[];
  /** outbox content to store (new windows plus any still unconfirmed in Redis) */
  outbox: WindowAggregate[];
  deltas: { events: number; late: number; unmatched: number; malformed: number };
}

/** Another member committed this partition since we loaded it (a zombie after a rebalance, or a race). */
export class CheckpointFenced extends Error {
  constructor(k: PartitionKey, seq: number) {
    super(`checkpoint of ${k.topic}/${k.partition} moved past seq ${seq}: another member owns it`);
  }
}

/**
 * The worker's durable state in SQL. One transaction per checkpoint writes the closed windows, the
 * processor snapshot, the next offset and the counters, guarded by compare-and-set on `seq`, so a
 * crash at any point leaves either all of it or none, and two members can never both commit from
 * the same starting point.
 */
export class SqlCheckpointStore {
  constructor(private readonly db: DataSource) {}

  async load(k: PartitionKey): Promise<StoredCheckpoint | null> {
    const rows: { next_offset: string; seq: string; snapshot: string; last_windows: WindowAggregate[] }[] = await this.db.query(
      'SELECT next_offset, seq, snapshot, last_windows FROM ad_stream_checkpoints WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [k.groupId, k.topic, k.partition],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    return { nextOffset: BigInt(r.next_offset), seq: Number(r.seq), snapshot: r.snapshot, lastWindows: r.last_windows ?? [] };
  }

  /** Returns the new seq; throws CheckpointFenced when the row moved on. */
  async commit(k: PartitionKey, c: CheckpointCommit): Promise<number> {
    return this.db.transaction(async (m) => {
      const seq = await this.casCheckpoint(m, k, c);
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
    const params = [k.groupId, k.topic, k.partition, c.nextOffset.toString(), c.snapshot, JSON.stringify(c.outbox), c.expectedSeq];
    const rows: { seq: string }[] =
      c.expectedSeq === 0
        ? await m.query(
            `INSERT INTO ad_stream_checkpoints (group_id, topic, partition, next_offset, snapshot, last_windows, seq)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7 + 1)
             ON CONFLICT (group_id, topic, partition) DO NOTHING RETURNING seq`,
            params,
          )
        : await m.query(
            `UPDATE ad_stream_checkpoints SET next_offset = $4, snapshot = $5, last_windows = $6::jsonb, seq = seq + 1, updated_at = now()
             WHERE group_id = $1 AND topic = $2 AND partition = $3 AND seq = $7 RETURNING seq`,
            params,
          );
    // UPDATE ... RETURNING through TypeORM's postgres driver answers [rows, count]
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as { seq: string }[];
    if (list.length === 0) throw new CheckpointFenced(k, c.expectedSeq);
    return Number(list[0].seq);
  }

  async counters(groupId: string, topic: string): Promise<{ events: number; late: number; unmatched: number; malformed: number }> {
    const rows: { events: string; late: string; unmatched: string; malformed: string }[] = await this.db.query(
      `SELECT coalesce(sum(events), 0) AS events, coalesce(sum(late), 0) AS late,
              coalesce(sum(unmatched), 0) AS unmatched, coalesce(sum(malformed), 0) AS malformed
       FROM ad_stream_counters WHERE group_id = $1 AND topic = $2`,
      [groupId, topic],
    );
    const r = rows[0];
    return { events: Number(r.events), late: Number(r.late), unmatched: Number(r.unmatched), malformed: Number(r.malformed) };
  }
}
