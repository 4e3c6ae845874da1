import { DataSource } from 'typeorm';
import { loadEntities, loadMigrations } from './loader';
import { SqlDatabase } from './sql-database';

export interface PostgresOptions {
  url: string;
  poolSize: number;
}

/** Any stable 64-bit number: every replica takes the same advisory lock while migrating. */
const MIGRATION_LOCK = 7400136581;

/** Full profile: a real PostgreSQL server through the pg pool. */
export class PostgresSqlDatabase extends SqlDatabase {
  readonly name = 'postgres' as const;
  readonly dataSource: DataSource;
  private readonly database: string;
  private readonly poolSize: number;

  constructor(options: PostgresOptions) {
    super();
    this.poolSize = options.poolSize;
    this.database = decodeURIComponent(new URL(options.url).pathname.replace(/^\//, ''));
    this.dataSource = new DataSource({
      type: 'postgres',
      url: options.url,
      poolSize: options.poolSize,
      synchronize: false,
      migrationsRun: false, // open() runs them under a lock instead
      migrations: loadMigrations(),
      entities: loadEntities(),
      // A bounded wait for a pool slot: a saturated pool surfaces as an error, never a hang.
      extra: { connectionTimeoutMillis: 10000 },
    });
  }

  async open(): Promise<void> {
    // Tests set NODE_ENV=test; a test run must never migrate or write a developer's real database.
    if (process.env.NODE_ENV === 'test' && !this.database.includes('test')) {
      throw new Error(
        `refusing to open database "${this.database}" with NODE_ENV=test: its name must contain "test"`,
      );
    }
    await this.dataSource.initialize();
    try {
      await this.migrate();
    } catch (e) {
      await this.dataSource.destroy().catch(() => undefined);
      throw e;
    }
  }

  /** Replicas booting together would race on the migrations table; a session lock serialises them. */
  private async migrate(): Promise<void> {
    // The lock holds one connection while the migrations need another: with one slot, do without.
    if (this.poolSize < 2) {
      await this.dataSource.runMigrations({ transaction: 'each' });
      return;
    }
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await this.dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await lock.release();
    }
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
