import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { PgliteSqlDatabase } from '../../src/platform/database/pglite-sql-database';
import { PostgresSqlDatabase } from '../../src/platform/database/postgres-sql-database';
import { SqlDatabase } from '../../src/platform/database/sql-database';

/** A server database whose name says "test"; each run gets its own and drops it afterwards. */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Opens one SqlDatabase adapter with the migrations applied, and removes what it created. */
export interface SqlHarness {
  open(): Promise<SqlDatabase>;
  cleanup(): Promise<void>;
}

export function postgresHarness(): SqlHarness {
  const name = `tetrad_test_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    async open() {
      await admin(`CREATE DATABASE ${name}`);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      const db = new PostgresSqlDatabase({ url: url.toString(), poolSize: 10 });
      await db.open();
      return db;
    },
    cleanup: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export function pgliteHarness(): SqlHarness {
  return {
    async open() {
      const db = new PgliteSqlDatabase('memory');
      await db.open();
      return db;
    },
    cleanup: async () => undefined,
  };
}

/** Both SQL adapters, for `describe.each`: every SQL contract suite runs on PostgreSQL and PGlite. */
export const SQL_ADAPTERS = [
  ['postgres', postgresHarness],
  ['pglite', pgliteHarness],
] as const;
