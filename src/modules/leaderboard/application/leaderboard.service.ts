import { Injectable, Logger } from '@nestjs/common';
import { validateCronExpression } from 'cron';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { claimFingerprints } from '../../../platform/idempotency/fingerprint-claims';
import { requestFingerprint, tupleKey } from '../../../platform/idempotency/request-fingerprint';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { EventBus, OutgoingMessage } from '../../../platform/messaging/event-bus.port';
import { topicName } from '../../../platform/messaging/topics';
import { isValidBoardId, isValidPlayerId, percentile, validateBoardConfig, validateMetadata } from '../domain';
import { ApplyOutcome, DEDUPE_TTL_MS, KvRankStore, ScoreWrite, StoredRankedEntry } from '../adapters/kv-rank-store';
import { Board, SqlBoardRepository } from '../adapters/sql-board-repository';
import { LeaderboardMetrics } from './leaderboard.metrics';
import { BoardExists, BoardNotFound, InvalidLeaderboardInput, PlayerNotFound, ResetInProgress, SeasonNotCurrent, SeasonNotFound } from '../leaderboard.errors';

export const SCORES_TOPIC = 'leaderboard.scores';
const BOARD_CACHE_MS = 1000;
/** A batch being applied with a stale board when the cache expired finishes within this. */
const LATE_WRITE_MARGIN_MS = 250;
/** One reset of a board at a time; outlives any plausible archive run (released when done). */
const RESET_LOCK_TTL_MS = 10 * 60 * 1000;
/** Sharded top-K reads merge offset+limit entries per shard; deeper pages are refused. */
export const MAX_TOP_DEPTH = 10_000;
/** Pages within the first TOP_CACHE_DEPTH entries are served from a per-process top-K cache. */
export const TOP_CACHE_DEPTH = 1000;
interface TopSnapshot {
  season: number;
  at: number;
  total: number;
  entries: StoredRankedEntry[];
  /** Serialized responses per `limit:offset`, built on first use: a hot page costs a Map lookup. */
  pages: Map<string, string>;
}
/** Distinct cached pages kept per snapshot (the common ones are few: top 10, 100, ...). */
const MAX_CACHED_PAGES = 64;

export interface ScoreMessage {
  boardId: string;
  playerId: string;
  score: number;
  metadata?: Record<string, unknown>;
  messageId: string;
  seq: number;
  /** Set when the caller chose messageId (Idempotency-Key / batch messageId). */
  keyed?: true;
}

/**
 * Tie-break time: epoch ms × 1000 plus a counter, strictly increasing in this process, taken when
 * the API accepts a write. Equal scores rank by it (who reached the score first), independent of
 * the order partitions are consumed in. Fits MAX_SEQ (2^53) until the year 2255.
 */
export class SeqClock {
  private last = 0;
  constructor(private readonly clock: Clock) {}
  next(): number {
    this.last = Math.max(this.last + 1, this.clock.now() * 1000);
    return this.last;
  }
}

export interface CreateBoardInput {
  id: string;
  order?: string;
  updatePolicy?: string;
  shards?: number;
  resetSchedule?: string;
  metadata?: Record<string, unknown>;
}

export interface ResetResult {
  boardId: string;
  archivedSeason: number;
  archivedEntries: number;
  season: number;
}

export interface ScoreInput {
  playerId: string;
  score: number;
  metadata?: Record<string, unknown>;
  messageId?: string;
}

function entryView(e: StoredRankedEntry) {
  return { rank: e.rank, playerId: e.playerId, score: e.score, ...(e.metadata ? { metadata: e.metadata } : {}) };
}

@Injectable()
export class LeaderboardService {
  readonly ranks: KvRankStore;
  readonly boards: SqlBoardRepository;
  private readonly cache = new Map<string, { board: Board; at: number }>();
  private readonly seqs: SeqClock;
  private readonly log = new Logger('leaderboard');
  private readonly createdListeners: ((board: Board) => void)[] = [];
  /** Top-K cache: per board, the first TOP_CACHE_DEPTH entries, refreshed at most every topCacheMs. */
  private readonly topCache = new Map<string, TopSnapshot>();
  private readonly topLoading = new Map<string, Promise<TopSnapshot>>();
  readonly topCacheMs: number;

  constructor(
    private readonly kv: KeyValueStore,
    db: DataSource,
    private readonly bus: EventBus,
    private readonly config: AppConfig,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly metrics: LeaderboardMetrics,
  ) {
    this.topCacheMs = config.LEADERBOARD_TOP_CACHE_MS;
    this.ranks = new KvRankStore(kv, config.NAMESPACE);
    this.boards = new SqlBoardRepository(db);
    this.seqs = new SeqClock(clock);
  }

  /** Called (synchronously) after each board is created; the reset scheduler uses it. */
  onBoardCreated(fn: (board: Board) => void): void {
    this.createdListeners.push(fn);
  }

  get topic(): string {
    return topicName(this.config, SCORES_TOPIC);
  }

  async create(input: CreateBoardInput): Promise<Board> {
    const v = validateBoardConfig({
      id: input.id,
      order: input.order,
      updatePolicy: input.updatePolicy,
      shards: input.shards,
      metadata: input.metadata,
    });
    if (!v.ok) throw new InvalidLeaderboardInput('invalid_board', v.errors.join('; '));
    if (input.resetSchedule !== undefined && input.resetSchedule !== null) {
      const cron = validateCronExpression(input.resetSchedule);
      if (!cron.valid) throw new InvalidLeaderboardInput('invalid_reset_schedule', `resetSchedule is not a valid cron expression: ${cron.error?.message ?? ''}`.trim());
    }
    const board = await this.boards.create({ ...v.value, resetSchedule: input.resetSchedule ?? null });
    if (!board) throw new BoardExists(v.value.id);
    for (const fn of this.createdListeners) fn(board);
    return board;
  }

  list(limit: number, offset: number): Promise<Board[]> {
    return this.boards.list(limit, offset);
  }

  /** The board (cached for a second: only `season` ever changes, on reset). */
  async board(boardId: string, fresh = false): Promise<Board> {
    if (!isValidBoardId(boardId)) throw new InvalidLeaderboardInput('invalid_board_id', 'board id must match [A-Za-z0-9:_-]{1,64}');
    const hit = this.cache.get(boardId);
    if (!fresh && hit && this.clock.now() - hit.at < BOARD_CACHE_MS) return hit.board;
    const board = await this.boards.get(boardId);
    if (!board) throw new BoardNotFound(boardId);
    this.cache.set(boardId, { board, at: this.clock.now() });
    return board;
  }

  /** `GET /leaderboards/:boardId`: the config, the season number and the season's player count. */
  async describe(boardId: string): Promise<Board & { players: number }> {
    const board = await this.board(boardId);
    return { ...board, players: await this.ranks.total(board, board.season) };
  }

  private checkPlayer(playerId: string): void {
    if (!isValidPlayerId(playerId)) throw new InvalidLeaderboardInput('invalid_player_id', 'player id must match [A-Za-z0-9:_.@-]{1,128}');
  }

  /** Publishes score writes to the log; resolves once the log has them (then the API answers 202). */
  async submit(boardId: string, writes: ScoreInput[]): Promise<string[]> {
    const board = await this.board(boardId);
    const messages: OutgoingMessage[] = [];
    const ids: string[] = [];
    const claims: { key: string; fingerprint: string }[] = [];
    for (const w of writes) {
      // Batch entries arrive unchecked (see BatchScoresDto): every field is checked here.
      if (typeof w !== 'object' || w === null) throw new InvalidLeaderboardInput('invalid_entry', 'each entry must be an object');
      if (typeof w.playerId !== 'string') throw new InvalidLeaderboardInput('invalid_player_id', 'playerId must be a string');
      this.checkPlayer(w.playerId);
      if (!Number.isSafeInteger(w.score)) throw new InvalidLeaderboardInput('invalid_score', 'score must be a safe integer');
      if (w.messageId !== undefined && (typeof w.messageId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(w.messageId))) {
        throw new InvalidLeaderboardInput('invalid_message_id', 'messageId must be 1..128 printable characters');
      }
      if (w.metadata !== undefined) {
        const errs = validateMetadata(w.metadata);
        if (errs.length) throw new InvalidLeaderboardInput('invalid_metadata', errs.join('; '));
      }
      if (w.messageId !== undefined) {
        // The key is bound to the write it came with: a replay re-publishes (the consumer dedupes
        // it), another write under the same key is refused instead of being dropped as a duplicate.
        claims.push({ key: this.claimKey(board.id, w.playerId, w.messageId), fingerprint: requestFingerprint({ score: w.score, metadata: w.metadata }) });
      }
      const messageId = w.messageId ?? this.ids.next();
      ids.push(messageId);
      const msg: ScoreMessage = {
        boardId: board.id,
        playerId: w.playerId,
        score: w.score,
        metadata: w.metadata,
        messageId,
        seq: this.seqs.next(),
        ...(w.messageId !== undefined ? { keyed: true as const } : {}),
      };
      messages.push({ key: `${board.id}:${w.playerId}`, value: JSON.stringify(msg), headers: { 'message-id': messageId } });
    }
    await claimFingerprints(this.kv, claims, DEDUPE_TTL_MS);
    await this.bus.publish(this.topic, messages);
    return ids;
  }

  /** Where a caller-chosen message id's request fingerprint lives (one hash slot per board). */
  private claimKey(boardId: string, playerId: string, messageId: string): string {
    return `${this.config.NAMESPACE}:lb:${boardId}:{lb-keys#${boardId}}:${tupleKey(playerId, messageId)}`;
  }

  /**
   * The worker's write path (LeaderboardScoreConsumer), at least once: the apply script dedupes by
   * log position (and by message id for caller-chosen ids), so a redelivered batch changes nothing
   * twice. Kafka is the log of record: this resolves, and the batch's offset is committed, only after
   * the Redis primaries passed its writes to a replica (WAIT). A failover that promotes a replica
   * lacking some writes also lacks their per-player log positions (written in the same script), and
   * those writes are still after the committed offset, so they are applied again.
   */
  async applyFromLog(messages: (ScoreMessage & { position: string })[], oldestAt: number, malformed: number): Promise<void> {
    const started = this.clock.now();
    if (malformed > 0) this.metrics.writes.inc({ outcome: 'malformed' }, malformed);
    const outcomes = await this.applyMessages(messages);
    // Throws when a primary with a replica did not replicate in time: no commit, redelivery.
    await this.kv.waitForReplicas();
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    for (const [outcome, n] of counts) this.metrics.writes.inc({ outcome }, n);
    const done = this.clock.now();
    this.metrics.applySeconds.observe((done - started) / 1000);
    if (Number.isFinite(oldestAt)) this.metrics.visibilityLagSeconds.observe(Math.max(0, done - oldestAt) / 1000);
  }

  /**
   * Consumer side: applies messages in log order, grouped per board. Idempotent by message id.
   * Returns each write's outcome (writes to a deleted board count as `stale`).
   */
  async applyMessages(messages: (ScoreMessage & { position?: string })[]): Promise<ApplyOutcome[]> {
    const all: ApplyOutcome[] = [];
    const byBoard = new Map<string, ScoreWrite[]>();
    for (const m of messages) {
      const list = byBoard.get(m.boardId) ?? [];
      list.push({ playerId: m.playerId, score: m.score, metadata: m.metadata, messageId: m.messageId, seq: m.seq, position: m.position, keyed: m.keyed });
      byBoard.set(m.boardId, list);
    }
    for (const [boardId, writes] of byBoard) {
      let board: Board;
      try {
        board = await this.board(boardId);
      } catch (e) {
        if (e instanceof BoardNotFound) {
          for (let i = 0; i < writes.length; i++) all.push('stale'); // board gone: nothing to apply to
          continue;
        }
        throw e;
      }
      const outcomes = await this.ranks.apply(board, board.season, writes);
      outcomes.forEach((o, i) => {
        if (o === 'rejected') this.log.warn(`${boardId}/${writes[i].playerId}: increment would leave the safe-integer range; dropped`);
      });
      all.push(...outcomes);
    }
    return all;
  }

  /** The `top` response as JSON text (what the route sends): cached pages are serialized once. */
  async topJson(boardId: string, limit: number, offset: number): Promise<string> {
    const board = await this.board(boardId);
    if (offset + limit > MAX_TOP_DEPTH) {
      throw new InvalidLeaderboardInput('page_too_deep', `offset + limit must be at most ${MAX_TOP_DEPTH}`);
    }
    if (this.topCacheMs > 0 && offset + limit <= TOP_CACHE_DEPTH) {
      const snap = await this.topSnapshot(board);
      const key = `${limit}:${offset}`;
      let page = snap.pages.get(key);
      if (page === undefined) {
        page = JSON.stringify({ boardId: board.id, season: snap.season, total: snap.total, entries: snap.entries.slice(offset, offset + limit).map(entryView) });
        if (snap.pages.size < MAX_CACHED_PAGES) snap.pages.set(key, page);
      }
      return page;
    }
    const [total, entries] = await Promise.all([
      this.ranks.total(board, board.season),
      this.ranks.top(board, board.season, offset, limit),
    ]);
    return JSON.stringify({ boardId: board.id, season: board.season, total, entries: entries.map(entryView) });
  }

  /** The cached first page(s) of a board; one load at a time per board (concurrent readers share it). */
  private topSnapshot(board: Board): Promise<TopSnapshot> {
    const hit = this.topCache.get(board.id);
    if (hit && hit.season === board.season && this.clock.now() - hit.at < this.topCacheMs) return Promise.resolve(hit);
    const loading = this.topLoading.get(board.id);
    if (loading) return loading;
    const at = this.clock.now();
    const p = Promise.all([this.ranks.total(board, board.season), this.ranks.top(board, board.season, 0, TOP_CACHE_DEPTH)])
      .then(([total, entries]) => {
        const snap: TopSnapshot = { season: board.season, at, total, entries, pages: new Map() };
        this.topCache.set(board.id, snap);
        return snap;
      })
      .finally(() => this.topLoading.delete(board.id));
    this.topLoading.set(board.id, p);
    return p;
  }

  async player(boardId: string, playerId: string, around: number) {
    const board = await this.board(boardId);
    this.checkPlayer(playerId);
    const view = await this.ranks.view(board, board.season, playerId, around);
    if (!view) throw new PlayerNotFound(boardId, playerId);
    const { entry } = view;
    const total = Math.max(view.total, entry.rank);
    return {
      boardId: board.id,
      season: board.season,
      playerId,
      score: entry.score,
      rank: entry.rank,
      total,
      percentile: percentile(entry.rank, total),
      ...(entry.metadata ? { metadata: entry.metadata } : {}),
      neighbours: view.neighbours.map(entryView),
    };
  }

  async ranksOf(boardId: string, playerIds: string[]) {
    const board = await this.board(boardId);
    playerIds.forEach((p) => this.checkPlayer(p));
    const [total, entries] = await Promise.all([
      this.ranks.total(board, board.season),
      Promise.all(
        playerIds.map(async (playerId) => {
          const v = await this.ranks.view(board, board.season, playerId, -1);
          return v ? { playerId, rank: v.entry.rank, score: v.entry.score } : { playerId, rank: null, score: null };
        }),
      ),
    ]);
    return { boardId: board.id, season: board.season, total, entries };
  }

  async remove(boardId: string, playerId: string): Promise<void> {
    const board = await this.board(boardId);
    this.checkPlayer(playerId);
    // The seq orders this DELETE against writes still in the log (tombstone in the apply script).
    const removed = await this.ranks.remove(board, board.season, playerId, this.seqs.next());
    this.topCache.delete(board.id); // this process reads its own delete; others within topCacheMs
    if (!removed) throw new PlayerNotFound(boardId, playerId);
  }

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
    const board = await this.board(boardId, true);
    if (season !== undefined && season !== board.season) {
      const ended = season < board.season ? await this.boards.season(board.id, season) : null;
      if (scheduled) return null;
      if (!ended) throw new SeasonNotCurrent(board.id, season, board.season);
      return { boardId: board.id, archivedSeason: season, archivedEntries: ended.total, season: board.season };
    }
    const lock = `${this.config.NAMESPACE}:lb:${board.id}:resetting`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: RESET_LOCK_TTL_MS }))) {
      if (scheduled) return null;
      throw new ResetInProgress(board.id);
    }
    try {
      const ended = board.season;
      // Keys of the season before, left by a reset that crashed after its commit.
      if (ended > 1) await this.ranks.dropSeason(board.id, ended - 1);
      const entries = await this.ranks.all(board, ended);
      if (!(await this.boards.archiveAndAdvance(board.id, ended, entries))) {
        if (scheduled) return null;
        throw new SeasonNotCurrent(board.id, ended, (await this.board(board.id, true)).season);
      }
      this.cache.delete(board.id);
      this.topCache.delete(board.id);
      const final = await this.foldLateWrites(board, ended, entries);
      await this.ranks.dropSeason(board.id, ended);
      return { boardId: board.id, archivedSeason: ended, archivedEntries: final.length, season: ended + 1 };
    } finally {
      await this.kv.del([lock]);
    }
  }

  /** Re-reads the ended season once no process can still be applying to it; re-archives on change. */
  private async foldLateWrites(board: Board, season: number, archived: StoredRankedEntry[]): Promise<StoredRankedEntry[]> {
    await new Promise((r) => setTimeout(r, BOARD_CACHE_MS + LATE_WRITE_MARGIN_MS));
    const now = await this.ranks.all(board, season);
    if (JSON.stringify(now) === JSON.stringify(archived)) return archived;
    await this.boards.rewriteArchive(board.id, season, now);
    return now;
  }

  async seasonTop(boardId: string, season: number, limit: number, offset: number) {
    const board = await this.board(boardId);
    const s = await this.boards.season(board.id, season);
    if (!s) throw new SeasonNotFound(boardId, season);
    const entries = await this.boards.seasonTop(board.id, season, limit, offset);
    return { boardId: board.id, season, total: s.total, entries };
  }
}
