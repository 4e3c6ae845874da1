export { exec, select } from '../../../platform/database/rows-of';
export type { Sql } from '../../../platform/database/rows-of';

/**
 * Postgres errors that mean "another transaction got in the way; nothing is wrong, try again later":
 * serialization failure, deadlock, a unique or check constraint (the allocation capacity trigger).
 */
export function isRetryableSqlError(e: unknown): boolean {
  // the SQLSTATE: TypeORM copies it onto QueryFailedError and keeps driverError
  const code = (e as { code?: string }).code ?? (e as { driverError?: { code?: string } }).driverError?.code;
  return code === '40001' || code === '40P01' || code === '23505' || code === '23514';
}
