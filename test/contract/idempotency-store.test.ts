import { randomUUID } from 'crypto';
import { SqlDatabase } from '../../src/platform/database/sql-database';
import { claimFingerprints } from '../../src/platform/idempotency/fingerprint-claims';
import { IdempotencyKeyRequired, IdempotencyKeyReused, RequestInProgress } from '../../src/platform/idempotency/idempotency.errors';
import { IdempotencyStore } from '../../src/platform/idempotency/idempotency-store';
import { KeyValueStore } from '../../src/platform/kv/key-value-store.port';
import { MemoryKeyValueStore } from '../../src/platform/kv/memory-key-value-store';
import { RedisKeyValueStore } from '../../src/platform/kv/redis-key-value-store';
import { createRedisClient } from '../support/redis';
import { SQL_ADAPTERS } from '../support/sql-harness';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A promise and the function that settles it: holds a first attempt in flight while the test looks. */
function gate<T>(): { promise: Promise<T>; open(v: T): void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

describe.each(SQL_ADAPTERS)('IdempotencyStore contract: %s', (_engine, makeHarness) => {
  const harness = makeHarness();
  let db: SqlDatabase;
  let sut: IdempotencyStore;
  const scope = `contract:${randomUUID()}`;

  beforeAll(async () => {
    db = await harness.open();
    sut = new IdempotencyStore(db.dataSource);
  });
  afterAll(async () => {
    await db?.close();
    await harness.cleanup();
  });

  it('runs the first request and answers a replay (same body, keys in another order) with the stored answer, without running it again', async () => {
    let runs = 0;
    const run = async () => ({ id: `r${++runs}`, n: runs });
    const first = await sut.run({ scope, key: 'k-replay', request: { a: 1, b: [1, 2] }, run });
    const replay = await sut.run({ scope, key: 'k-replay', request: { b: [1, 2], a: 1 }, run });
    expect(first).toEqual({ id: 'r1', n: 1 });
    expect(replay).toEqual(first);
    expect(runs).toBe(1);
  });

  it('refuses the key with another body: IdempotencyKeyReused (422 idempotency_key_reused)', async () => {
    await sut.run({ scope, key: 'k-reuse', request: { seats: 1 }, run: async () => 'first' });
    const err = await sut.run({ scope, key: 'k-reuse', request: { seats: 2 }, run: async () => 'second' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyKeyReused);
    expect(err).toMatchObject({ kind: 'unprocessable', code: 'idempotency_key_reused' });
  });

  it('answers a replay while the first attempt runs with RequestInProgress (409 request_in_progress, Retry-After), then the answer', async () => {
    const g = gate<string>();
    const first = sut.run({ scope, key: 'k-flight', request: {}, run: () => g.promise });
    // The first attempt's INSERT must be in before the replay looks: poll the row, no sleep.
    while ((await db.dataSource.query(`SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = 'k-flight'`, [scope])).length === 0);
    const err = await sut.run({ scope, key: 'k-flight', request: {}, run: async () => 'second' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestInProgress);
    expect(err).toMatchObject({ kind: 'conflict', code: 'request_in_progress', extra: { retryAfterSeconds: 1 } });
    g.open('done');
    await expect(first).resolves.toBe('done');
    await expect(sut.run({ scope, key: 'k-flight', request: {}, run: async () => 'second' })).resolves.toBe('done');
  });

  it('frees the key when the attempt fails, so a retry runs again', async () => {
    await expect(sut.run({ scope, key: 'k-fail', request: {}, run: async () => Promise.reject(new Error('boom')) })).rejects.toThrow('boom');
    await expect(sut.run({ scope, key: 'k-fail', request: {}, run: async () => 'retried' })).resolves.toBe('retried');
  });

  it('lets a replay take over a stale in-flight key and run again under the first attempt\'s intent', async () => {
    const g = gate<string>();
    const first = sut.run({ scope, key: 'k-stale', request: { x: 1 }, intent: 'order-1', run: () => g.promise, staleAfterMs: 1 });
    while ((await db.dataSource.query(`SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = 'k-stale'`, [scope])).length === 0);
    // Age the in-flight row instead of waiting: the takeover is decided by created_at.
    await db.dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '1 minute' WHERE scope = $1 AND key = 'k-stale'`, [scope]);
    const intents: string[] = [];
    const taken = await sut.run({ scope, key: 'k-stale', request: { x: 1 }, intent: 'order-2', staleAfterMs: 1, run: async (i) => (intents.push(i), `made ${i}`) });
    expect(taken).toBe('made order-1');
    expect(intents).toEqual(['order-1']);
    g.open('late');
    await expect(first).resolves.toBe('late');
  });

  it('keeps scopes apart and refuses a missing or malformed key (400 idempotency_key_required)', async () => {
    await expect(sut.run({ scope: `${scope}:a`, key: 'same', request: 1, run: async () => 'a' })).resolves.toBe('a');
    await expect(sut.run({ scope: `${scope}:b`, key: 'same', request: 2, run: async () => 'b' })).resolves.toBe('b');
    for (const key of [undefined, '', 'has space', 'x'.repeat(129), 'é']) {
      const err = await sut.run({ scope, key, request: {}, run: async () => 'never' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyKeyRequired);
      expect(err).toMatchObject({ kind: 'invalid', code: 'idempotency_key_required' });
    }
  });
});

describe.each([
  ['redis', () => new RedisKeyValueStore(createRedisClient(REDIS_URL))],
  ['memory', () => new MemoryKeyValueStore()],
] as const)('claimFingerprints contract: %s', (_name, make) => {
  let kv: KeyValueStore & { close(): unknown };
  const tag = `{idem-contract-${randomUUID()}}`;
  beforeAll(() => {
    kv = make();
  });
  afterAll(async () => {
    await kv.close();
  });

  it('binds keys to fingerprints all or nothing: a replay passes, another fingerprint is IdempotencyKeyReused and binds nothing', async () => {
    const a = `${tag}:a`;
    const b = `${tag}:b`;
    await claimFingerprints(kv, [{ key: a, fingerprint: 'f1' }], 60_000);
    await claimFingerprints(kv, [{ key: a, fingerprint: 'f1' }], 60_000);
    await expect(claimFingerprints(kv, [{ key: b, fingerprint: 'f2' }, { key: a, fingerprint: 'other' }], 60_000)).rejects.toBeInstanceOf(IdempotencyKeyReused);
    // b was not bound by the refused batch: it still takes any fingerprint.
    await claimFingerprints(kv, [{ key: b, fingerprint: 'f3' }], 60_000);
    await expect(claimFingerprints(kv, [{ key: b, fingerprint: 'f2' }], 60_000)).rejects.toBeInstanceOf(IdempotencyKeyReused);
  });

  it('refuses one batch naming a key twice with two fingerprints', async () => {
    const c = `${tag}:c`;
    await expect(claimFingerprints(kv, [{ key: c, fingerprint: 'x' }, { key: c, fingerprint: 'y' }], 60_000)).rejects.toBeInstanceOf(IdempotencyKeyReused);
  });
});
