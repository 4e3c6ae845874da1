import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { rowsOf } from '../../../platform/database/rows-of';
import { SortOrder, UpdatePolicy } from '../domain';
import { ArchivedEntry, Board, BoardRepository } from '../ports/board-repository.port';
import { StoredRankedEntry } from '../ports/rank-store.port';

interface BoardRow {
  id: string;
  order: SortOrder;
  update_policy: UpdatePolicy;
  shards: number;
  reset_schedule: string | null;
  season: number;
  metadata: Record<string, unknown>;
  created_at: Date | string;
}

function toBoard(r: BoardRow): Board {
  return {
    id: r.id,
    order: r.order,
    updatePolicy: r.update_policy,
    shards: Number(r.shards),
    resetSchedule: r.reset_schedule,
    season: Number(r.season),
    metadata: r.metadata ?? {},
    createdAt: new Date(r.created_at).toISOString(),
  };
}

const COLUMNS = 'id, "order", update_policy, shards, reset_schedule, season, metadata, created_at';

/** Board registry and season archive in SQL (PostgreSQL or PGlite, same queries). */
@Injectable()
export class SqlBoardRepository extends BoardRepository {
  constructor(private readonly db: DataSource) {
    super();
  }

  async create(b: Omit<Board, 'season' | 'createdAt'>): Promise<Board | null> {
    const rows: BoardRow[] = await this.db.query(
      `INSERT INTO leaderboards (id, "order", update_policy, shards, reset_schedule, metadata)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [b.id, b.order, b.updatePolicy, b.shards, b.resetSchedule, JSON.stringify(b.metadata)],
    );
    return rows.length ? toBoard(rows[0]) : null;
  }

  async get(id: string): Promise<Board | null> {
    const rows: BoardRow[] = await this.db.query(`SELECT ${COLUMNS} FROM leaderboards WHERE id = $1`, [id]);
    return rows.length ? toBoard(rows[0]) : null;
  }

  async list(limit: number, offset: number): Promise<Board[]> {
    const rows: BoardRow[] = await this.db.query(`SELECT ${COLUMNS} FROM leaderboards ORDER BY id LIMIT $1 OFFSET $2`, [limit, offset]);
    return rows.map(toBoard);
  }

  async archiveAndAdvance(boardId: string, season: number, entries: StoredRankedEntry[]): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const moved = rowsOf(await m.query(`UPDATE leaderboards SET season = season + 1 WHERE id = $1 AND season = $2 RETURNING season`, [boardId, season]));
      if (moved.length === 0) return false;
      await m.query(`INSERT INTO leaderboard_seasons (board_id, season, total) VALUES ($1, $2, $3)`, [boardId, season, entries.length]);
      await insertEntries(m, boardId, season, entries);
      return true;
    });
  }

  async rewriteArchive(boardId: string, season: number, entries: StoredRankedEntry[]): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM leaderboard_season_entries WHERE board_id = $1 AND season = $2`, [boardId, season]);
      await m.query(`UPDATE leaderboard_seasons SET total = $3 WHERE board_id = $1 AND season = $2`, [boardId, season, entries.length]);
      await insertEntries(m, boardId, season, entries);
    });
  }

  async season(boardId: string, season: number): Promise<{ total: number } | null> {
    const rows: { total: number }[] = await this.db.query(
      `SELECT total FROM leaderboard_seasons WHERE board_id = $1 AND season = $2`,
      [boardId, season],
    );
    return rows.length ? { total: Number(rows[0].total) } : null;
  }

  async seasonTop(boardId: string, season: number, limit: number, offset: number): Promise<ArchivedEntry[]> {
    const rows: { rank: number; player_id: string; score: string; metadata: Record<string, unknown> | null }[] =
      await this.db.query(
        `SELECT rank, player_id, score, metadata FROM leaderboard_season_entries
         WHERE board_id = $1 AND season = $2 AND rank > $3 ORDER BY rank LIMIT $4`,
        [boardId, season, offset, limit],
      );
    return rows.map((r) => ({
      rank: Number(r.rank),
      playerId: r.player_id,
      score: Number(r.score),
      ...(r.metadata ? { metadata: r.metadata } : {}),
    }));
  }
}

async function insertEntries(m: EntityManager, boardId: string, season: number, entries: StoredRankedEntry[]): Promise<void> {
  const CHUNK = 1000;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const part = entries.slice(i, i + CHUNK);
    await m.query(
      `INSERT INTO leaderboard_season_entries (board_id, season, rank, player_id, score, metadata)
       SELECT $1, $2, r, p, s, md FROM unnest($3::int[], $4::text[], $5::bigint[], $6::jsonb[]) AS t(r, p, s, md)`,
      [
        boardId,
        season,
        part.map((e) => e.rank),
        part.map((e) => e.playerId),
        part.map((e) => String(e.score)),
        part.map((e) => (e.metadata === undefined ? null : JSON.stringify(e.metadata))),
      ],
    );
  }
}
