import { select, type Sql } from '../../../platform/database/rows-of';
export { exec, select } from '../../../platform/database/rows-of';
export type { Sql } from '../../../platform/database/rows-of';

const camelKeys = new Map<string, string>();

/**
 * `select`, each row as the ports speak it (StoredTask, StoredNode): snake_case columns become
 * camelCase fields and the bigint `*_ms` times (strings from the driver) become numbers (epoch ms
 * are JS-safe); null stays null, other bigints (version) stay strings.
 */
export async function selectStored<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T[]> {
  return (await select<Record<string, unknown>>(sql, text, params)).map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      let key = camelKeys.get(k);
      if (key === undefined) camelKeys.set(k, (key = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())));
      out[key] = v !== null && k.endsWith('_ms') ? Number(v) : v;
    }
    return out as T;
  });
}

/**
 * Postgres errors that mean "another transaction got in the way; nothing is wrong, try again later":
 * serialization failure, deadlock, a unique or check constraint (the allocation capacity trigger).
 */
export function isRetryableSqlError(e: unknown): boolean {
  // the SQLSTATE: TypeORM copies it onto QueryFailedError and keeps driverError
  const code = (e as { code?: string }).code ?? (e as { driverError?: { code?: string } }).driverError?.code;
  return code === '40001' || code === '40P01' || code === '23505' || code === '23514';
}
