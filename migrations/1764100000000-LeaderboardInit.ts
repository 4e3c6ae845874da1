import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leaderboard registry and season archive. Live rankings are in the key/value store (sorted sets);
 * PostgreSQL holds each board's configuration and current season, and every archived season's
 * final standings (one row per entry with its final rank).
 */
export class LeaderboardInit1764100000000 implements MigrationInterface {
  name = 'LeaderboardInit1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE leaderboards (
        id             text        PRIMARY KEY,
        "order"        text        NOT NULL CHECK ("order" IN ('desc', 'asc')),
        update_policy  text        NOT NULL CHECK (update_policy IN ('overwrite', 'best', 'increment')),
        shards         integer     NOT NULL CHECK (shards BETWEEN 1 AND 1024),
        reset_schedule text,
        season         integer     NOT NULL DEFAULT 1,
        metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE leaderboard_seasons (
        board_id    text        NOT NULL REFERENCES leaderboards (id),
        season      integer     NOT NULL,
        total       integer     NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (board_id, season)
      )`);
    await q.query(`
      CREATE TABLE leaderboard_season_entries (
        board_id  text    NOT NULL,
        season    integer NOT NULL,
        rank      integer NOT NULL,
        player_id text    NOT NULL,
        score     bigint  NOT NULL,
        metadata  jsonb,
        PRIMARY KEY (board_id, season, rank),
        FOREIGN KEY (board_id, season) REFERENCES leaderboard_seasons (board_id, season)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE leaderboard_season_entries');
    await q.query('DROP TABLE leaderboard_seasons');
    await q.query('DROP TABLE leaderboards');
  }
}
