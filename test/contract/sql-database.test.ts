import { QueryFailedError } from 'typeorm';
import { SqlDatabase } from '../../src/platform/database/sql-database';
import { PostgresSqlDatabase } from '../../src/platform/database/postgres-sql-database';
import { SQL_ADAPTERS } from '../support/sql-harness';

describe.each(SQL_ADAPTERS)('SqlDatabase contract: %s', (engine, makeHarness) => {
  const harness = makeHarness();
  let db: SqlDatabase;
  const q = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => db.dataSource.query(sql, params) as Promise<T[]>;

  beforeAll(async () => {
    const started = Date.now();
    db = await harness.open();
    // Boot time (PGlite includes initdb in memory) is worth seeing in the logs.
    process.stdout.write(`${engine}: open + migrations in ${Date.now() - started} ms\n`);
    await q(`CREATE TABLE contract_counter (id int PRIMARY KEY, value int NOT NULL)`);
    await q(`CREATE TABLE contract_jobs (id int PRIMARY KEY, taken boolean NOT NULL DEFAULT false)`);
  });

  afterAll(async () => {
    await db?.close();
    await harness.cleanup();
  });

  it('reports its engine', () => {
    expect(db.name).toBe(engine);
  });

  it('applies the migrations', async () => {
    const [t] = await q<{ r: string | null }>(`SELECT to_regclass('public.idempotency_keys')::text AS r`);
    expect(t.r).toBe('idempotency_keys');
    const rows = await q<{ name: string }>(`SELECT name FROM migrations`);
    expect(rows.map((r) => r.name)).toContain('PlatformInit1700000000000');
  });

  it('commits and rolls back transactions', async () => {
    await db.dataSource.transaction((m) => m.query(`INSERT INTO contract_counter VALUES (100, 1)`));
    await expect(
      db.dataSource.transaction(async (m) => {
        await m.query(`INSERT INTO contract_counter VALUES (101, 1)`);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await q<{ id: number }>(`SELECT id FROM contract_counter WHERE id IN (100, 101) ORDER BY id`);
    expect(rows).toEqual([{ id: 100 }]);
  });

  it('surfaces a unique violation as QueryFailedError with code 23505', async () => {
    const insert = `INSERT INTO idempotency_keys (scope, key, request_hash, status, expires_at)
                    VALUES ('s', 'dup', 'h', 'done', now() + interval '1 day')`;
    await q(insert);
    const err = await q(insert).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryFailedError);
    expect((err as { code?: string }).code).toBe('23505');
    // The connection is still usable after the error (matters most for PGlite's single session).
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('supports SELECT ... FOR UPDATE SKIP LOCKED', async () => {
    await q(`INSERT INTO contract_jobs (id) SELECT generate_series(1, 5)`);
    const claim = `SELECT id FROM contract_jobs WHERE NOT taken ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;
    if (engine === 'postgres') {
      // Two open transactions: the second skips the row the first holds.
      const a = db.dataSource.createQueryRunner();
      const b = db.dataSource.createQueryRunner();
      try {
        await a.startTransaction();
        await b.startTransaction();
        const [ra] = (await a.query(claim)) as { id: number }[];
        const [rb] = (await b.query(claim)) as { id: number }[];
        expect(ra.id).toBe(1);
        expect(rb.id).toBe(2);
      } finally {
        await a.rollbackTransaction();
        await b.rollbackTransaction();
        await a.release();
        await b.release();
      }
    }
    // PGlite has one session, so transactions never overlap: the clause must parse and claim.
    const ids = await db.dataSource.transaction(async (m) => {
      const [r] = (await m.query(claim)) as { id: number }[];
      await m.query(`UPDATE contract_jobs SET taken = true WHERE id = $1`, [r.id]);
      return r.id;
    });
    expect(ids).toBe(1);
  });

  it('serialises 50 concurrent read-modify-write transactions with FOR UPDATE', async () => {
    await q(`INSERT INTO contract_counter VALUES (1, 0)`);
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db.dataSource.transaction(async (m) => {
          const [row] = (await m.query(`SELECT value FROM contract_counter WHERE id = 1 FOR UPDATE`)) as { value: number }[];
          await new Promise((r) => setImmediate(r)); // give other transactions a chance to interleave
          await m.query(`UPDATE contract_counter SET value = $1 WHERE id = 1`, [row.value + 1]);
        }),
      ),
    );
    const [row] = await q<{ value: number }>(`SELECT value FROM contract_counter WHERE id = 1`);
    expect(row.value).toBe(50);
  });

  it('round-trips jsonb', async () => {
    const doc = { s: 'héllo ✓', n: 1.5, big: 2 ** 53 - 1, nested: { a: [1, 'two', null, true] }, empty: {} };
    await q(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, response, expires_at)
       VALUES ('s', 'json', 'h', 'done', $1, now())`,
      [JSON.stringify(doc)],
    );
    const [row] = await q<{ response: unknown }>(`SELECT response FROM idempotency_keys WHERE scope = 's' AND key = 'json'`);
    expect(row.response).toEqual(doc);
  });

  it('round-trips timestamptz with millisecond precision', async () => {
    const at = new Date('2031-02-03T04:05:06.789Z');
    const [row] = await q<{ at: Date; utc: string }>(
      `SELECT $1::timestamptz AS at, to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS utc`,
      [at],
    );
    expect(row.at).toBeInstanceOf(Date);
    expect(row.at.getTime()).toBe(at.getTime());
    expect(row.utc).toBe('2031-02-03 04:05:06.789');
  });

  it('answers ping, and rejects it once closed', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
    await db.close();
    await expect(db.ping()).rejects.toThrow();
  });
});

describe('PostgresSqlDatabase guard', () => {
  it('refuses, under NODE_ENV=test, a database whose name lacks "test"', async () => {
    const db = new PostgresSqlDatabase({ url: 'postgres://postgres@127.0.0.1:5432/tetrad', poolSize: 1 });
    await expect(db.open()).rejects.toThrow(/refusing to open database "tetrad"/);
    expect(db.dataSource.isInitialized).toBe(false);
  });
});
