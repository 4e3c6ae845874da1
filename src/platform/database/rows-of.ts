import type { EntityManager } from 'typeorm';

/** Anything with TypeORM's `query` (DataSource, a transaction's EntityManager, SqlDatabase.dataSource). */
export type Sql = Pick<EntityManager, 'query'>;

/**
 * The one SQL result helper. TypeORM's postgres driver answers UPDATE/DELETE with [rows, count] and
 * everything else (and PGlite) with rows; this normalises both, so callers can read RETURNING rows
 * and check how many rows a guarded UPDATE or DELETE touched.
 */
export function resultOf<T>(res: unknown): { rows: T[]; count: number } {
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') {
    return { rows: res[0] as T[], count: res[1] };
  }
  const rows = (res ?? []) as T[];
  return { rows, count: rows.length };
}

export function rowsOf<T>(res: unknown): T[] {
  return resultOf<T>(res).rows;
}

export async function exec<T>(sql: Sql, text: string, params: unknown[] = []): Promise<{ rows: T[]; count: number }> {
  return resultOf<T>(await sql.query(text, params));
}

export async function select<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T[]> {
  return (await exec<T>(sql, text, params)).rows;
}
