import { PartitionProcessor, ProcessResult, WindowAggregate } from '../domain';

/**
 * One assigned partition's in-memory progress since its last checkpoint: the processor, the next
 * offset to read, and everything the next checkpoint must write. Work on a task is serialised
 * (batches and idle ticks never interleave) through `run`.
 */
export class PartitionTask {
  /** closed windows not yet in PostgreSQL */
  pending: WindowAggregate[] = [];
  /** committed to PostgreSQL but not confirmed in Redis (the outbox) */
  redisBacklog: WindowAggregate[] = [];
  deltas = { events: 0, late: 0, unmatched: 0, malformed: 0 };
  /** offsets or idle time moved since the last checkpoint */
  dirty = false;
  lastCheckpointAt: number;
  /** size of the stored full snapshot and of the changes stored after it (when to write a full one again) */
  snapshotBytes = 0;
  changesBytes = 0;
  /** a new partition's empty snapshot, stored with its first (incremental) checkpoint */
  base?: string;
  /** the last batch reached the log's end (the checkpoint is then due after the plain interval) */
  caughtUp = false;
  /** how long the last checkpoint took (snapshot + transaction), to pace the next one */
  lastCheckpointCostMs = 0;
  /** when the last batch was processed (an idle partition checkpoints without pacing) */
  lastBatchAt = 0;
  /** set when the task must not be used any more (revoked, fenced, failed) */
  dropped = false;
  /** the checkpoint being committed in the background (at most one per task: each needs the last seq) */
  inflight?: Promise<void>;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly partition: number,
    public processor: PartitionProcessor,
    public nextOffset: bigint,
    public seq: number,
    now: number,
  ) {
    this.lastCheckpointAt = now;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  absorb(r: ProcessResult): void {
    for (const w of r.closedWindows) this.pending.push(w);
    this.deltas.late += r.late;
    this.deltas.unmatched += r.unmatched;
    if (r.closedWindows.length > 0 || r.late > 0 || r.unmatched > 0) this.dirty = true;
  }

  /**
   * Takes what the next checkpoint writes (closed windows, counter deltas) out of the task, so batches
   * can go on while it commits. Called inside `run`; if the commit then fails the task is dropped, so
   * nothing taken here is lost: the next owner recomputes it from the last checkpoint.
   */
  capture(): { windows: WindowAggregate[]; deltas: PartitionTask['deltas']; nextOffset: bigint; expectedSeq: number } {
    const c = { windows: this.pending, deltas: this.deltas, nextOffset: this.nextOffset, expectedSeq: this.seq };
    this.pending = [];
    this.deltas = { events: 0, late: 0, unmatched: 0, malformed: 0 };
    this.dirty = false;
    return c;
  }

  /** What a checkpoint committed; called only after its transaction succeeded. */
  committed(seq: number, windows: WindowAggregate[], now: number): void {
    this.seq = seq;
    this.redisBacklog = this.redisBacklog.concat(windows);
    this.lastCheckpointAt = now;
  }
}
