import { exec, resultOf, rowsOf, Sql } from './rows-of';

describe(resultOf.name, () => {
  it("reads TypeORM postgres's [rows, count] answer to UPDATE/DELETE", () => {
    expect(resultOf([[{ id: 'a' }], 3])).toEqual({ rows: [{ id: 'a' }], count: 3 });
    expect(resultOf([[], 0])).toEqual({ rows: [], count: 0 });
  });

  it('reads a plain row list (SELECT, and every PGlite answer) as rows with their count', () => {
    expect(resultOf([{ id: 'a' }, { id: 'b' }])).toEqual({ rows: [{ id: 'a' }, { id: 'b' }], count: 2 });
    expect(rowsOf(undefined)).toEqual([]);
  });

  it('exec runs the query through anything with query()', async () => {
    const sut = { query: async (text: string, params: unknown[]) => [[{ text, params }], 1] } as unknown as Sql;
    await expect(exec(sut, 'UPDATE t SET x = $1', [1])).resolves.toEqual({ rows: [{ text: 'UPDATE t SET x = $1', params: [1] }], count: 1 });
  });
});
