import { SortOrder } from './board-config';

/**
 * Redis sorted-set member encoding that makes Redis order equal leaderboard order.
 *
 * - The Redis score is the game score itself (safe integers are exact doubles).
 * - The member is `<16-digit zero-padded time part>|<playerId>`. Redis orders equal scores by
 *   member bytes (memcmp), so with a fixed-width decimal prefix the prefix decides the tie.
 * - `seq` is when the player reached their current score: a non-negative safe integer that grows
 *   with time (a per-board INCR counter, or epoch milliseconds; the caller passes it in).
 * - asc boards are read with ZRANGE (members ascending): prefix = seq, so earlier seq comes first.
 * - desc boards are read with ZREVRANGE (members descending): prefix = MAX_SEQ - seq (inverted),
 *   so earlier seq gives a larger prefix and comes first.
 * - Two players with the same score and the same seq are ordered by playerId (ascending on asc
 *   boards, descending on desc boards); deterministic, and impossible with an INCR counter.
 */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER; // 9007199254740991, 16 decimal digits
export const SEQ_WIDTH = 16;
export const MEMBER_SEPARATOR = '|';

export interface DecodedMember {
  seq: number;
  playerId: string;
}

function assertSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq must be a non-negative safe integer, got ${seq}`);
}

export function encodeMember(order: SortOrder, seq: number, playerId: string): string {
  assertSeq(seq);
  if (playerId.length === 0) throw new RangeError('playerId must not be empty');
  const part = order === 'desc' ? MAX_SEQ - seq : seq;
  return `${String(part).padStart(SEQ_WIDTH, '0')}${MEMBER_SEPARATOR}${playerId}`;
}

export function decodeMember(order: SortOrder, member: string): DecodedMember {
  const prefix = member.slice(0, SEQ_WIDTH);
  if (member.length < SEQ_WIDTH + 2 || member[SEQ_WIDTH] !== MEMBER_SEPARATOR || !/^\d{16}$/.test(prefix)) {
    throw new RangeError(`not a leaderboard member: ${member}`);
  }
  const part = Number(prefix);
  if (part > MAX_SEQ) throw new RangeError(`time part out of range: ${member}`);
  return { seq: order === 'desc' ? MAX_SEQ - part : part, playerId: member.slice(SEQ_WIDTH + 1) };
}
