import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { claimFingerprints } from '../../../platform/idempotency/fingerprint-claims';
import { requestFingerprint, tupleKey } from '../../../platform/idempotency/request-fingerprint';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { EventBus, OutgoingMessage } from '../../../platform/messaging/event-bus.port';
import { topicName } from '../../../platform/messaging/topics';
import { ApplyOutcome, DEDUPE_TTL_MS, isValidPlayerId, percentile, ScoreWrite, validateMetadata } from '../domain';
import { LeaderboardCode, LeaderboardError } from '../leaderboard.errors';
import { Board } from '../ports/board-repository.port';
import { RankStore, StoredRankedEntry } from '../ports/rank-store.port';
import { BoardService } from './board.service';
import { LeaderboardMetrics } from './leaderboard.metrics';
import { LeaderboardConfig } from '../leaderboard.config';

export const SCORES_TOPIC = 'leaderboard.scores';
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

/** A score write in the log; `keyed` is set when the caller chose messageId (Idempotency-Key / batch messageId). */
export interface ScoreMessage extends Omit<ScoreWrite, 'position' | 'keyed'> {
  boardId: string;
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

export interface ScoreInput {
  playerId: string;
  score: number;
  metadata?: Record<string, unknown>;
  messageId?: string;
}

function entryView(e: StoredRankedEntry) {
  return { rank: e.rank, playerId: e.playerId, score: e.score, ...(e.metadata ? { metadata: e.metadata } : {}) };
}

/** Score writes (publish to the log, apply from it, delete) and the read path (top, player, ranks). */
@Injectable()
export class LeaderboardService {
  private readonly seqs: SeqClock;
  private readonly log = new Logger('leaderboard');
  /** Top-K cache: per board, the first TOP_CACHE_DEPTH entries, refreshed at most every topCacheMs. */
  private readonly topCache = new Map<string, TopSnapshot>();
  private readonly topLoading = new Map<string, Promise<TopSnapshot>>();
  readonly topCacheMs: number;

  constructor(
    private readonly boards: BoardService,
    private readonly ranks: RankStore,
    private readonly kv: KeyValueStore,
    private readonly bus: EventBus,
    private readonly config: LeaderboardConfig,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly metrics: LeaderboardMetrics,
  ) {
    this.topCacheMs = config.LEADERBOARD_TOP_CACHE_MS;
    this.seqs = new SeqClock(clock);
  }

  private checkPlayer(playerId: string): void {
    if (!isValidPlayerId(playerId)) throw this.invalid(LeaderboardCode.InvalidPlayerId, 'player id must match [A-Za-z0-9:_.@-]{1,128}');
  }

  /** Publishes score writes to the log; resolves once the log has them (then the API answers 202). */
  async submit(boardId: string, writes: ScoreInput[]): Promise<string[]> {
    const board = await this.boards.board(boardId);
    const messages: OutgoingMessage[] = [];
    const ids: string[] = [];
    const claims: { key: string; fingerprint: string }[] = [];
    for (const w of writes) {
      // Batch entries arrive unchecked (see BatchScoresDto): every field is checked here.
      if (typeof w !== 'object' || w === null) throw this.invalid(LeaderboardCode.InvalidEntry, 'each entry must be an object');
      if (typeof w.playerId !== 'string') throw this.invalid(LeaderboardCode.InvalidPlayerId, 'playerId must be a string');
      this.checkPlayer(w.playerId);
      if (!Number.isSafeInteger(w.score)) throw this.invalid(LeaderboardCode.InvalidScore, 'score must be a safe integer');
      if (w.messageId !== undefined && (typeof w.messageId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(w.messageId))) {
        throw this.invalid(LeaderboardCode.InvalidMessageId, 'messageId must be 1..128 printable characters');
      }
      if (w.metadata !== undefined) {
        const errs = validateMetadata(w.metadata);
        if (errs.length) throw this.invalid(LeaderboardCode.InvalidMetadata, errs.join('; '));
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
    await this.bus.publish(topicName(this.config, SCORES_TOPIC), messages);
    return ids;
  }

  /** Where a caller-chosen message id's request fingerprint lives (one hash slot per board). */
  private claimKey(boardId: string, playerId: string, messageId: string): string {
    return `${this.config.NAMESPACE}:lb:${boardId}:{lb-keys#${boardId}}:${tupleKey(playerId, messageId)}`;
  }

  /**
   * Consumer side: applies messages in log order, grouped per board. Idempotent by message id.
   * Returns each write's outcome (writes to a deleted board count as `stale`).
   */
  async applyMessages(messages: (ScoreMessage & { position?: string })[]): Promise<ApplyOutcome[]> {
    const all: ApplyOutcome[] = [];
    const byBoard = new Map<string, ScoreWrite[]>();
    for (const m of messages) {
      const list = byBoard.get(m.boardId);
      if (list) list.push(m);
      else byBoard.set(m.boardId, [m]);
    }
    for (const [boardId, writes] of byBoard) {
      let board: Board;
      try {
        board = await this.boards.board(boardId);
      } catch (e) {
        if (e instanceof LeaderboardError && e.code === LeaderboardCode.BoardNotFound) {
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

  /**
   * The worker's write path, at least once: applies a consumed batch (the rank store dedupes by log
   * position, and by message id for caller-chosen ids, so a redelivered batch changes nothing
   * twice) and resolves only once its writes survive a failover (RankStore.replicated), so the
   * offset committed afterwards cannot outlive them: a promoted replica that lacks some writes also
   * lacks their per-player log positions, and those writes are still after the committed offset.
   */
  async applyFromLog(messages: (ScoreMessage & { position: string })[], oldestAt: number, malformed: number): Promise<void> {
    const started = this.clock.now();
    if (malformed > 0) this.metrics.writes.inc({ outcome: 'malformed' }, malformed);
    const outcomes = await this.applyMessages(messages);
    await this.ranks.replicated(); // throws when a replica did not acknowledge in time: no commit, redelivery
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    for (const [outcome, n] of counts) this.metrics.writes.inc({ outcome }, n);
    const done = this.clock.now();
    this.metrics.applySeconds.observe((done - started) / 1000);
    if (Number.isFinite(oldestAt)) this.metrics.visibilityLagSeconds.observe(Math.max(0, done - oldestAt) / 1000);
  }

  /** The `top` response as JSON text (what the route sends): cached pages are serialized once. */
  async topJson(boardId: string, limit: number, offset: number): Promise<string> {
    const board = await this.boards.board(boardId);
    if (offset + limit > MAX_TOP_DEPTH) {
      throw this.invalid(LeaderboardCode.PageTooDeep, `offset + limit must be at most ${MAX_TOP_DEPTH}`);
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
    const board = await this.boards.board(boardId);
    this.checkPlayer(playerId);
    const view = await this.ranks.view(board, board.season, playerId, around);
    if (!view) throw this.playerNotFound(boardId, playerId);
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
    const board = await this.boards.board(boardId);
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
    const board = await this.boards.board(boardId);
    this.checkPlayer(playerId);
    // The seq orders this DELETE against writes still in the log (tombstone in the apply script).
    const removed = await this.ranks.remove(board, board.season, playerId, this.seqs.next());
    this.topCache.delete(board.id); // this process reads its own delete; others within topCacheMs
    if (!removed) throw this.playerNotFound(boardId, playerId);
  }

  private invalid(code: LeaderboardCode, message: string): LeaderboardError {
    return new LeaderboardError('invalid', code, message);
  }

  private playerNotFound(boardId: string, playerId: string): LeaderboardError {
    return new LeaderboardError('not_found', LeaderboardCode.PlayerNotFound, `player ${playerId} is not on leaderboard ${boardId}`);
  }
}
