import { Injectable } from '@nestjs/common';
import { validateCronExpression } from 'cron';
import { Clock } from '../../../platform/clock/clock';
import { isValidBoardId, validateBoardConfig } from '../domain';
import { LeaderboardCode, LeaderboardError } from '../leaderboard.errors';
import { Board, BoardRepository } from '../ports/board-repository.port';
import { RankStore } from '../ports/rank-store.port';

export type { Board };

/** How long a board's config is cached per process; only `season` ever changes, on reset. */
export const BOARD_CACHE_MS = 1000;

export interface CreateBoardInput {
  id: string;
  order?: string;
  updatePolicy?: string;
  shards?: number;
  resetSchedule?: string;
  metadata?: Record<string, unknown>;
}

/** The board registry: create, list, read (cached for a second, so reads do no SQL). */
@Injectable()
export class BoardService {
  private readonly cache = new Map<string, { board: Board; at: number }>();
  private readonly createdListeners: ((board: Board) => void)[] = [];

  constructor(
    private readonly boards: BoardRepository,
    private readonly ranks: RankStore,
    private readonly clock: Clock,
  ) {}

  /** Called (synchronously) after each board is created; the reset scheduler uses it. */
  onBoardCreated(fn: (board: Board) => void): void {
    this.createdListeners.push(fn);
  }

  async create(input: CreateBoardInput): Promise<Board> {
    const { id, order, updatePolicy, shards, metadata, resetSchedule } = input;
    const v = validateBoardConfig({ id, order, updatePolicy, shards, metadata });
    if (!v.ok) throw new LeaderboardError('invalid', LeaderboardCode.InvalidBoard, v.errors.join('; '));
    if (resetSchedule !== undefined && resetSchedule !== null) {
      const cron = validateCronExpression(resetSchedule);
      if (!cron.valid) {
        throw new LeaderboardError('invalid', LeaderboardCode.InvalidResetSchedule, `resetSchedule is not a valid cron expression: ${cron.error?.message ?? ''}`.trim());
      }
    }
    const board = await this.boards.create({ ...v.value, resetSchedule: resetSchedule ?? null });
    if (!board) throw new LeaderboardError('conflict', LeaderboardCode.BoardExists, `leaderboard ${v.value.id} already exists`);
    for (const fn of this.createdListeners) fn(board);
    return board;
  }

  list(limit: number, offset: number): Promise<Board[]> {
    return this.boards.list(limit, offset);
  }

  /** The board, from the per-process cache unless `fresh`. */
  async board(boardId: string, fresh = false): Promise<Board> {
    if (!isValidBoardId(boardId)) throw new LeaderboardError('invalid', LeaderboardCode.InvalidBoardId, 'board id must match [A-Za-z0-9:_-]{1,64}');
    const hit = this.cache.get(boardId);
    if (!fresh && hit && this.clock.now() - hit.at < BOARD_CACHE_MS) return hit.board;
    const board = await this.boards.get(boardId);
    if (!board) throw new LeaderboardError('not_found', LeaderboardCode.BoardNotFound, `leaderboard ${boardId} does not exist`);
    this.cache.set(boardId, { board, at: this.clock.now() });
    return board;
  }

  /** Drops the cached config (this process sees a reset at once; others within BOARD_CACHE_MS). */
  forget(boardId: string): void {
    this.cache.delete(boardId);
  }

  /** `GET /leaderboards/:boardId`: the config, the season number and the season's player count. */
  async describe(boardId: string): Promise<Board & { players: number }> {
    const board = await this.board(boardId);
    return { ...board, players: await this.ranks.total(board, board.season) };
  }
}
