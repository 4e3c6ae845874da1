import { DataSource } from 'typeorm';
import { withTimeout } from '../with-timeout';

export type SqlEngine = 'postgres' | 'pglite';

/**
 * The SQL port. Both adapters hand out a TypeORM DataSource speaking to a PostgreSQL-compatible
 * engine with the same migrations applied, so modules write one set of queries for both profiles.
 */
export abstract class SqlDatabase {
  abstract readonly name: SqlEngine;
  abstract readonly dataSource: DataSource;

  /** Connects and applies pending migrations; the database is usable when this resolves. */
  abstract open(): Promise<void>;
  abstract close(): Promise<void>;

  /** Readiness probe: a stuck pool or a dead engine must fail the probe, not hang it. */
  async ping(timeoutMs = 1000): Promise<void> {
    if (!this.dataSource?.isInitialized) throw new Error(`${this.name}: database is not open`);
    await withTimeout(this.dataSource.query('SELECT 1'), timeoutMs, `${this.name}: ping timed out after ${timeoutMs} ms`);
  }
}
