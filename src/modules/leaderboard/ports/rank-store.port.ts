import { ApplyOutcome, RankedEntry, ScoreWrite, SortOrder, UpdatePolicy } from '../domain';

/** What the rank store needs to know about a board. */
export interface BoardRef {
  id: string;
  order: SortOrder;
  updatePolicy: UpdatePolicy;
  shards: number;
}

export interface StoredRankedEntry extends RankedEntry {
  rank: number;
  metadata?: Record<string, unknown>;
}

export interface PlayerView {
  entry: StoredRankedEntry;
  total: number;
  /** The player and up to `around` entries above and below, in board order. */
  neighbours: StoredRankedEntry[];
}

/**
 * The live standings of each board season: applies score writes (the domain's applyScoreWrite
 * rule: dedupe, tombstones, update policy, tie-break time) and answers exact ranks. Redis + Lua on
 * the full profile, in-process on the embedded one; one contract suite (test/contract/rank-store.test.ts).
 */
export abstract class RankStore {
  /** Applies writes in order, each atomically; the outcome of each. */
  abstract apply(board: BoardRef, season: number, writes: ScoreWrite[]): Promise<ApplyOutcome[]>;
  /** Removes the player and tombstones writes accepted at or before `seq`; true when a score was removed. */
  abstract remove(board: BoardRef, season: number, playerId: string, seq: number): Promise<boolean>;
  abstract total(board: BoardRef, season: number): Promise<number>;
  /** Entries at 0-based offsets [offset, offset+limit) in board order, with their global rank. */
  abstract top(board: BoardRef, season: number, offset: number, limit: number): Promise<StoredRankedEntry[]>;
  /** Every entry in board order, read from the primary (season archive). */
  abstract all(board: BoardRef, season: number): Promise<StoredRankedEntry[]>;
  /**
   * A player's entry with its exact rank, the season's size and (around >= 0) the `around` entries
   * above and below; null when the player has no entry.
   */
  abstract view(board: BoardRef, season: number, playerId: string, around: number): Promise<PlayerView | null>;
  abstract dropSeason(boardId: string, season: number): Promise<void>;
  /**
   * Resolves once the writes applied so far survive a failover (Redis: WAIT on each primary that
   * has a replica; throws when one did not acknowledge in time); the consumer commits after it.
   */
  abstract replicated(): Promise<void>;
}
