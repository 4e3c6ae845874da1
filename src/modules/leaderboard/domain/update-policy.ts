import { SortOrder, UpdatePolicy, isValidScore } from './board-config';

/**
 * How one write ended: applied, duplicate (a redelivery or a replayed caller-chosen id), rejected
 * (increment overflow), stale (accepted before a DELETE of the player that has already run).
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'rejected' | 'stale';

export interface ScoreWrite {
  playerId: string;
  score: number;
  metadata?: Record<string, unknown>;
  /** Message id: a redelivered message with the same id is applied once. */
  messageId: string;
  /** When the write was accepted (monotonic, see SeqClock): equal scores rank earlier seq first. */
  seq: number;
  /** `partition:offset` in the log, when the write came from it: redeliveries are caught by it. */
  position?: string;
  /** The caller chose the message id (Idempotency-Key): dedupe by id too, with a 24 h key. */
  keyed?: boolean;
}

/** What a rank store keeps per player of one board season. */
export interface PlayerRecord {
  /** Absent: the player has no entry (never scored, or deleted). */
  score?: number;
  /** When the player reached `score` (the tie-break); kept while the score stays the same. */
  seq?: number;
  /** Metadata JSON of the entry. */
  metadata?: string;
  /** The seq of the latest DELETE: writes accepted at or before it are stale. */
  tombstone?: number;
  /** The last applied log position `partition:offset`. */
  position?: string;
}

/** How long a caller-chosen message id dedupes (and stays bound to its request). */
export const DEDUPE_TTL_MS = 24 * 3600 * 1000;

/**
 * A log position `pos` was applied already when the player's last applied position is on the same
 * partition at the same or a later offset: one player's writes share a partition, in order.
 */
export function isRedelivery(last: string | undefined, pos: string): boolean {
  const l = last === undefined ? null : /^(\d+):(\d+)$/.exec(last);
  const w = /^(\d+):(\d+)$/.exec(pos);
  return !!l && !!w && l[1] === w[1] && Number(l[2]) >= Number(w[2]);
}

/** A caller-chosen id, or a write not from the log, is deduped by its message id (a retried request is a new log message). */
export const claimsId = (w: ScoreWrite): boolean => !!w.keyed || w.position === undefined;

/**
 * One write against the player's record (updated in place), atomically with the rest of its
 * batch. In order: a redelivery by log position is a duplicate; a caller-chosen id (or a write
 * without a position) must win `claimId` (a 24 h SET NX on its message id), else duplicate; the
 * position is recorded; a write accepted at or before the player's DELETE is stale; the policy
 * gives the new score (overwrite: the incoming one; best: the better of old and incoming, max on
 * desc boards, min on asc; increment: old, 0 when absent, + incoming), which must be a safe
 * integer (else rejected); an unchanged score keeps its seq (the tie position earned when it was
 * first reached); metadata is replaced when the score changed or the policy is overwrite. The
 * Redis adapter's APPLY_SCORES script is the same rule in Lua.
 */
export function applyScoreWrite(
  board: { order: SortOrder; updatePolicy: UpdatePolicy },
  rec: PlayerRecord,
  w: ScoreWrite,
  claimId: () => boolean,
): ApplyOutcome {
  if (w.position !== undefined && isRedelivery(rec.position, w.position)) return 'duplicate';
  if (claimsId(w) && !claimId()) return 'duplicate';
  if (w.position !== undefined) rec.position = w.position;
  if (rec.tombstone !== undefined && rec.tombstone >= w.seq) return 'stale';
  const old = rec.score;
  const better = old === undefined || (board.order === 'desc' ? w.score > old : w.score < old);
  const next = board.updatePolicy === 'increment' ? (old ?? 0) + w.score : board.updatePolicy === 'best' && !better ? old! : w.score;
  if (!isValidScore(w.score) || !isValidScore(next)) return 'rejected';
  const changed = next !== old;
  if (changed) {
    rec.score = next;
    rec.seq = w.seq;
  }
  if (w.metadata !== undefined && (changed || board.updatePolicy === 'overwrite')) rec.metadata = JSON.stringify(w.metadata);
  return 'applied';
}

/**
 * A DELETE of the player at `seq`: raises the tombstone (even without an entry: the player's first
 * write may be the one still queued) and drops the entry; true when there was one. REMOVE_PLAYER in Lua.
 */
export function removePlayer(rec: PlayerRecord, seq: number): boolean {
  if (rec.tombstone === undefined || rec.tombstone < seq) rec.tombstone = seq;
  if (rec.score === undefined) return false;
  delete rec.score;
  delete rec.seq;
  delete rec.metadata;
  return true;
}
