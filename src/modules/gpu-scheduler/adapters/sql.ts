import type { EntityManager } from 'typeorm';

/** Anything with TypeORM's `query` (DataSource or a transaction's EntityManager). */
export type Sql = Pick<EntityManager, 'query'>;

/**
 * TypeORM's postgres driver answers UPDATE/DELETE with [rows, count] and everything else with rows;
 * this normalises both so callers can check how many rows a guarded UPDATE touched.
 */
export async function exec<T>(sql: Sql, text: string, params: unknown[] = []): Promise<{ rows: T[]; count: number }> {
  const res: unknown = await sql.query(text, params);
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') {
    return { rows: res[0] as T[], count: res[1] };
  }
  const rows = (res ?? []) as T[];
  return { rows, count: rows.length };
}

export async function select<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T[]> {
  return (await exec<T>(sql, text, params)).rows;
}

/** SQLSTATE of a driver error (TypeORM copies it onto QueryFailedError and keeps driverError). */
export function sqlErrorCode(e: unknown): string | undefined {
  return (e as { code?: string }).code ?? (e as { driverError?: { code?: string } }).driverError?.code;
}

/**
 * Postgres errors that mean "another transaction got in the way; nothing is wrong, try again later":
 * serialization failure, deadlock, a unique or check constraint (the allocation capacity trigger).
 */
export function isRetryableSqlError(e: unknown): boolean {
  const code = sqlErrorCode(e);
  return code === '40001' || code === '40P01' || code === '23505' || code === '23514';
}
