/** TypeORM's postgres driver answers UPDATE/DELETE with [rows, count]; everything else (and PGlite) with rows. */
export function rowsOf<T>(res: unknown): T[] {
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return res as T[];
}
