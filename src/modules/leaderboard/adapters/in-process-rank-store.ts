import { tupleKey } from '../../../platform/idempotency/request-fingerprint';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { OrderStatisticSet } from '../../../platform/kv/order-statistic-set';
import { ApplyOutcome, applyScoreWrite, decodeMember, DEDUPE_TTL_MS, encodeMember, PlayerRecord, removePlayer, ScoreWrite } from '../domain';
import { BoardRef, PlayerView, RankStore, StoredRankedEntry } from '../ports/rank-store.port';

interface Season {
  /** Where the season persists: one hash, field playerId → record JSON, `#<player, id>` → claim expiry. */
  key: string;
  players: Map<string, PlayerRecord>;
  /** Entries by (score, encoded member): ascending board order on asc boards, reversed on desc. */
  ranked: OrderStatisticSet;
  /** Caller-chosen ids claimed, with their expiry (epoch ms). */
  claims: Map<string, number>;
}

const CLAIM = '#'; // never starts a player id

/**
 * The embedded profile's RankStore: the domain rules (applyScoreWrite, removePlayer) applied to
 * in-process structures, one order-statistic tree per board season (shards need no split in one
 * process; ranks and order are the same). Each call changes memory synchronously, so nothing
 * interleaves, then writes the changed records to one hash of the KeyValueStore in one call (on
 * the embedded profile journaled and fsynced before it resolves), which is also what a restart
 * loads a season from, on first use.
 */
export class InProcessRankStore extends RankStore {
  private readonly seasons = new Map<string, Season>();
  private readonly loading = new Map<string, Promise<Season>>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly namespace: string,
  ) {
    super();
  }

  private season(board: BoardRef, n: number): Season | Promise<Season> {
    const id = `${board.id}#${n}`;
    const hit = this.seasons.get(id);
    if (hit) return hit;
    let p = this.loading.get(id);
    if (!p) {
      p = this.load(board, n, id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private async load(board: BoardRef, n: number, id: string): Promise<Season> {
    const s: Season = { key: `${this.namespace}:lb:${board.id}:{${id}}:records`, players: new Map(), ranked: new OrderStatisticSet(), claims: new Map() };
    const expired: string[] = [];
    for (const [field, text] of Object.entries(await this.kv.hGetAll(s.key))) {
      if (field.startsWith(CLAIM)) {
        if (Number(text) > Date.now()) s.claims.set(field, Number(text));
        else expired.push(field);
        continue;
      }
      this.put(board, s, field, JSON.parse(text) as PlayerRecord);
    }
    if (expired.length) await this.kv.hDel(s.key, expired);
    this.seasons.set(id, s);
    return s;
  }

  /** Stores the record and moves its entry in the tree when its score or seq changed. */
  private put(board: BoardRef, s: Season, playerId: string, rec: PlayerRecord, old?: { score?: number; seq?: number }): void {
    if (old?.score !== undefined && (old.score !== rec.score || old.seq !== rec.seq)) s.ranked.remove(old.score, encodeMember(board.order, old.seq!, playerId));
    if (rec.score !== undefined && (old?.score !== rec.score || old.seq !== rec.seq)) s.ranked.insert(rec.score, encodeMember(board.order, rec.seq!, playerId));
    s.players.set(playerId, rec);
  }

  async apply(board: BoardRef, season: number, writes: ScoreWrite[]): Promise<ApplyOutcome[]> {
    const s = await this.season(board, season);
    const changed: Record<string, string> = {};
    const now = Date.now();
    const out = writes.map((w) => {
      const rec = s.players.get(w.playerId) ?? {};
      const old = { score: rec.score, seq: rec.seq };
      const claim = () => {
        const key = CLAIM + tupleKey(w.playerId, w.messageId);
        if ((s.claims.get(key) ?? 0) > now) return false;
        s.claims.set(key, now + DEDUPE_TTL_MS);
        changed[key] = String(now + DEDUPE_TTL_MS);
        return true;
      };
      const outcome = applyScoreWrite(board, rec, w, claim);
      if (outcome !== 'duplicate') {
        this.put(board, s, w.playerId, rec, old);
        changed[w.playerId] = JSON.stringify(rec);
      }
      return outcome;
    });
    await this.kv.hSet(s.key, changed);
    return out;
  }

  async remove(board: BoardRef, season: number, playerId: string, seq: number): Promise<boolean> {
    const s = await this.season(board, season);
    const rec = s.players.get(playerId) ?? {};
    const old = { score: rec.score, seq: rec.seq };
    const removed = removePlayer(rec, seq);
    this.put(board, s, playerId, rec, old);
    await this.kv.hSet(s.key, { [playerId]: JSON.stringify(rec) });
    return removed;
  }

  async total(board: BoardRef, season: number): Promise<number> {
    return (await this.season(board, season)).ranked.size;
  }

  /** The entry at 0-based board position i. */
  private at(board: BoardRef, s: Season, i: number): StoredRankedEntry {
    const n = s.ranked.size;
    const { score, member } = s.ranked.at(board.order === 'asc' ? i : n - 1 - i)!;
    const e: StoredRankedEntry = { score, ...decodeMember(board.order, member), rank: i + 1 };
    const meta = s.players.get(e.playerId)?.metadata;
    if (meta !== undefined) e.metadata = JSON.parse(meta) as Record<string, unknown>;
    return e;
  }

  private range(board: BoardRef, s: Season, from: number, to: number): StoredRankedEntry[] {
    const out: StoredRankedEntry[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, s.ranked.size); i++) out.push(this.at(board, s, i));
    return out;
  }

  async top(board: BoardRef, season: number, offset: number, limit: number): Promise<StoredRankedEntry[]> {
    return this.range(board, await this.season(board, season), offset, offset + limit);
  }

  async all(board: BoardRef, season: number): Promise<StoredRankedEntry[]> {
    const s = await this.season(board, season);
    return this.range(board, s, 0, s.ranked.size);
  }

  async view(board: BoardRef, season: number, playerId: string, around: number): Promise<PlayerView | null> {
    const s = await this.season(board, season);
    const rec = s.players.get(playerId);
    if (rec?.score === undefined) return null;
    const n = s.ranked.size;
    const asc = s.ranked.rank(rec.score, encodeMember(board.order, rec.seq!, playerId))!;
    const i = board.order === 'asc' ? asc : n - 1 - asc;
    if (around < 0) return { entry: { playerId, score: rec.score, seq: rec.seq!, rank: i + 1 }, total: n, neighbours: [] };
    const neighbours = this.range(board, s, i - around, i + around + 1);
    return { entry: neighbours[Math.min(i, around)], total: n, neighbours };
  }

  async dropSeason(boardId: string, season: number): Promise<void> {
    const id = `${boardId}#${season}`;
    this.seasons.delete(id);
    await this.kv.del([`${this.namespace}:lb:${boardId}:{${id}}:records`]);
  }

  /** One process: every applied write is as durable as it will get once apply resolved. */
  async replicated(): Promise<void> {}
}
