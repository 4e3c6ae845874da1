import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { LeaderboardCode, LeaderboardError } from '../leaderboard.errors';
import { ArchivedEntry, Board, BoardRepository } from '../ports/board-repository.port';
import { RankStore, StoredRankedEntry } from '../ports/rank-store.port';
import { BOARD_CACHE_MS, BoardService } from './board.service';
import { LeaderboardConfig } from '../leaderboard.config';

/** A batch being applied with a stale board when the cache expired finishes within this. */
const LATE_WRITE_MARGIN_MS = 250;
/** One reset of a board at a time; outlives any plausible archive run (released when done). */
const RESET_LOCK_TTL_MS = 10 * 60 * 1000;
/** A scheduled reset's lock (board + season) outlives any archive run: a season is reset once while it holds. */
const SCHEDULED_LOCK_TTL_MS = 60 * 60 * 1000;

export interface ResetResult {
  boardId: string;
  archivedSeason: number;
  archivedEntries: number;
  season: number;
}

/** Seasons: ending one (archive to SQL, next season), on request or on schedule, and reading archives. */
@Injectable()
export class SeasonService {
  constructor(
    private readonly boards: BoardService,
    private readonly archive: BoardRepository,
    private readonly ranks: RankStore,
    private readonly kv: KeyValueStore,
    private readonly config: LeaderboardConfig,
  ) {}

  /**
   * Ends the current season, all or nothing: the season's entries (final ranks) are archived and
   * the board moves to season+1 in ONE SQL transaction, so a failed archive leaves the board on the
   * season it was on, with its live keys, and a retry archives that same season. Only then do the
   * old season's keys go. Writes that still land in the old season (another process's board cache,
   * up to BOARD_CACHE_MS) are folded into the archive before the keys are dropped. `season`: the
   * season the caller means to end — when it has ended already (a retry of a reset whose answer
   * was lost), its archive is answered again instead of ending the next one.
   */
  async reset(boardId: string, season?: number): Promise<ResetResult>;
  /** Scheduled form: only when the board is still at `expectedSeason`, else null. */
  async reset(boardId: string, expectedSeason: number, scheduled: true): Promise<ResetResult | null>;
  async reset(boardId: string, season?: number, scheduled = false): Promise<ResetResult | null> {
    const board = await this.boards.board(boardId, true);
    if (season !== undefined && season !== board.season) {
      const ended = season < board.season ? await this.archive.season(board.id, season) : null;
      if (scheduled) return null;
      if (!ended) throw this.notCurrent(board.id, season, board.season);
      return { boardId: board.id, archivedSeason: season, archivedEntries: ended.total, season: board.season };
    }
    const lock = `${this.config.NAMESPACE}:lb:${board.id}:resetting`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: RESET_LOCK_TTL_MS }))) {
      if (scheduled) return null;
      throw new LeaderboardError('conflict', LeaderboardCode.ResetInProgress, `a reset of leaderboard ${board.id} is in progress`, { retryAfterSeconds: 2 });
    }
    try {
      const ended = board.season;
      // Keys of the season before, left by a reset that crashed after its commit.
      if (ended > 1) await this.ranks.dropSeason(board.id, ended - 1);
      const entries = await this.ranks.all(board, ended);
      if (!(await this.archive.archiveAndAdvance(board.id, ended, entries))) {
        if (scheduled) return null;
        throw this.notCurrent(board.id, ended, (await this.boards.board(board.id, true)).season);
      }
      this.boards.forget(board.id);
      const final = await this.foldLateWrites(board, ended, entries);
      await this.ranks.dropSeason(board.id, ended);
      return { boardId: board.id, archivedSeason: ended, archivedEntries: final.length, season: ended + 1 };
    } finally {
      await this.kv.del([lock]);
    }
  }

  /**
   * A scheduled reset of `season`: several scheduler instances may tick together, and a lock keyed
   * by board + season lets exactly one of them reset it. Null when another instance has it or the
   * season has ended; on failure the lock is released (the caller retries) and the error thrown.
   */
  async resetOnSchedule(boardId: string, season: number): Promise<ResetResult | null> {
    const lock = `${this.config.NAMESPACE}:lb:reset-lock:${boardId}:${season}`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: SCHEDULED_LOCK_TTL_MS }))) return null;
    try {
      return await this.reset(boardId, season, true);
    } catch (e) {
      await this.kv.del([lock]).catch(() => 0);
      throw e;
    }
  }

  private notCurrent(boardId: string, season: number, current: number): LeaderboardError {
    const message = `leaderboard ${boardId} is at season ${current}; season ${season} is not the current one nor archived`;
    return new LeaderboardError('conflict', LeaderboardCode.SeasonNotCurrent, message, { currentSeason: current });
  }

  /** Re-reads the ended season once no process can still be applying to it; re-archives on change. */
  private async foldLateWrites(board: Board, season: number, archived: StoredRankedEntry[]): Promise<StoredRankedEntry[]> {
    await new Promise((r) => setTimeout(r, BOARD_CACHE_MS + LATE_WRITE_MARGIN_MS));
    const now = await this.ranks.all(board, season);
    if (JSON.stringify(now) === JSON.stringify(archived)) return archived;
    await this.archive.rewriteArchive(board.id, season, now);
    return now;
  }

  async seasonTop(boardId: string, season: number, limit: number, offset: number): Promise<{ boardId: string; season: number; total: number; entries: ArchivedEntry[] }> {
    const board = await this.boards.board(boardId);
    const s = await this.archive.season(board.id, season);
    if (!s) throw new LeaderboardError('not_found', LeaderboardCode.SeasonNotFound, `leaderboard ${boardId} has no archived season ${season}`);
    const entries = await this.archive.seasonTop(board.id, season, limit, offset);
    return { boardId: board.id, season, total: s.total, entries };
  }
}
