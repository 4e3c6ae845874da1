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
  /** processor changes committed after `snapshot`, oldest first (incremental checkpoints) */
  changes: string[];
  /** dashboard outbox: rows committed here whose dashboard write is not confirmed */
  lastWindows: WindowAggregate[];
}

export interface CheckpointCommit {
  expectedSeq: number;
  nextOffset: bigint;
  /** a full snapshot (replaces the stored one and its changes), or with `incremental` the changes since the last commit */
  snapshot: string;
  incremental?: boolean;
  /** with `incremental` on a partition's first commit (expectedSeq 0): the snapshot the changes apply to */
  base?: string;
  /** closed windows since the previous checkpoint (written to the real-time store) */
  windows: WindowAggregate[];
  /** outbox content to store (new windows plus any still unconfirmed on the dashboard) */
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
 * The stream worker's durable state: per partition, the closed windows, the processor snapshot, the
 * next offset and the counters, committed all or nothing and compare-and-set on `seq`.
 */
export abstract class CheckpointStore {
  abstract load(k: PartitionKey): Promise<StoredCheckpoint | null>;
  /** Returns the new seq; throws CheckpointFenced when the partition moved past `expectedSeq`. */
  abstract commit(k: PartitionKey, c: CheckpointCommit): Promise<number>;
}

/** The real-time dashboard: each partition's final counts per closed window, ad and campaign (idempotent). */
export abstract class DashboardSink {
  abstract write(partition: number, windows: readonly WindowAggregate[]): Promise<void>;
}
