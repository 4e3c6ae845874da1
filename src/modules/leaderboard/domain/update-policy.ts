import { SortOrder, UpdatePolicy, isValidScore } from './board-config';
import { StoredEntry, memberAfterUpdate } from './member-encoding';

export interface UpdateResult {
  score: number;
  /** false when the stored score stays as it was (no write, member and time part kept). */
  changed: boolean;
}

export class ScoreOutOfRangeError extends RangeError {
  constructor(readonly value: number) {
    super(`score ${value} is not a safe integer`);
    this.name = 'ScoreOutOfRangeError';
  }
}

/** True when `a` is strictly better than `b` on a board with this order. */
export function isBetter(order: SortOrder, a: number, b: number): boolean {
  return order === 'desc' ? a > b : a < b;
}

/**
 * Pure score update.
 * - overwrite: the incoming score replaces the old one.
 * - best: keep the better of old and incoming (max on desc boards, min on asc boards).
 * - increment: old (0 when absent) + incoming; the result must stay a safe integer.
 * Increment is NOT idempotent by itself: callers must de-duplicate by message id first,
 * see incrementDedupeKey.
 */
export function applyUpdate(
  policy: UpdatePolicy,
  order: SortOrder,
  old: number | undefined,
  incoming: number,
): UpdateResult {
  if (!isValidScore(incoming)) throw new ScoreOutOfRangeError(incoming);
  switch (policy) {
    case 'overwrite':
      return { score: incoming, changed: old !== incoming };
    case 'best':
      if (old === undefined || isBetter(order, incoming, old)) return { score: incoming, changed: true };
      return { score: old, changed: false };
    case 'increment': {
      const next = (old ?? 0) + incoming;
      if (!isValidScore(next)) throw new ScoreOutOfRangeError(next);
      return { score: next, changed: old === undefined || next !== old };
    }
  }
}

export const DEDUPE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Dedupe contract for increments. An increment carries a client/producer message id; the adapter
 * must, atomically with the ZINCRBY (one Lua script / MULTI on the same shard slot):
 *   `SET <key> 1 NX EX DEDUPE_TTL_SECONDS` — if the SET fails the message was already applied:
 *   return the current score with changed=false and do not increment.
 * The key is scoped to board and player so the same message id can be reused across boards,
 * and carries the board hash tag `{boardId}` so it lands in the board's cluster slot.
 * Redelivery after the TTL is not detected; producers must not redeliver older than that.
 */
export function incrementDedupeKey(boardId: string, playerId: string, messageId: string): string {
  if (messageId.length === 0 || messageId.length > 128) throw new RangeError('messageId must be 1..128 characters');
  return `lb:dedupe:{${boardId}}:${playerId}:${messageId}`;
}

export interface ScoreUpdatePlan {
  score: number;
  member: string;
  changed: boolean;
  /** The previous member to ZREM in the same script, when the member changes. */
  removeMember?: string;
}

/**
 * Full pure update for one player: policy → new score → member. The adapter's Lua script mirrors
 * this: when `changed` is false nothing is written; otherwise ZREM removeMember (if any) and
 * ZADD score member. `seq` is the board's "now" (INCR counter or epoch ms), used only when the
 * score changes, so re-submitting the same score keeps the original tie-break time.
 */
export function planScoreUpdate(
  board: { order: SortOrder; updatePolicy: UpdatePolicy },
  playerId: string,
  old: StoredEntry | undefined,
  incoming: number,
  seq: number,
): ScoreUpdatePlan {
  const { score, changed } = applyUpdate(board.updatePolicy, board.order, old?.score, incoming);
  const member = memberAfterUpdate(board.order, playerId, old, score, seq);
  const plan: ScoreUpdatePlan = { score, member, changed };
  if (old !== undefined && old.member !== member) plan.removeMember = old.member;
  return plan;
}
