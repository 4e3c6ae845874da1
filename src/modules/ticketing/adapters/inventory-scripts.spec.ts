import { MemoryKeyValueStore } from '../../../platform/kv/memory-key-value-store';
import { REBUILD_COMMIT, RELEASE, TRY_HOLD } from './inventory-scripts';

describe('inventory scripts (local body)', () => {
  const keys = ['{e}:stock', '{e}:users', '{e}:ready'];
  let sut: MemoryKeyValueStore;
  beforeEach(async () => {
    sut = new MemoryKeyValueStore();
  });
  afterEach(() => sut.close());

  it('answers missing until the ready marker exists', async () => {
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u1', 4, 1])).toEqual(['missing']);
  });

  it('takes GA places down to zero, then sold_out, and enforces the per-user limit', async () => {
    await sut.set('{e}:stock', '3');
    await sut.set('{e}:ready', '1');
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u1', 2, 2])).toEqual(['ok']);
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u1', 2, 1])).toEqual(['limit', '2']);
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u2', 2, 2])).toEqual(['sold_out', '1']);
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u2', 2, 1])).toEqual(['ok']);
    expect(await sut.get('{e}:stock')).toBe('0');
    expect(await sut.runScript(RELEASE, keys, ['ga', 'u1', 2])).toBe(1);
    expect(await sut.get('{e}:stock')).toBe('2');
    expect(await sut.hGet('{e}:users', 'u1')).toBeNull();
  });

  it('takes named seats all or nothing and names the unavailable ones', async () => {
    await sut.sAdd('{e}:stock', ['A-1-1', 'A-1-2']);
    await sut.set('{e}:ready', '1');
    expect(await sut.runScript(TRY_HOLD, keys, ['seated', 'u1', 4, 2, 'A-1-1', 'A-1-3'])).toEqual(['seat_unavailable', 'A-1-3']);
    expect(await sut.sCard('{e}:stock')).toBe(2);
    expect(await sut.runScript(TRY_HOLD, keys, ['seated', 'u1', 4, 1, 'A-1-1'])).toEqual(['ok']);
    expect(await sut.sMembers('{e}:stock')).toEqual(['A-1-2']);
    await sut.runScript(RELEASE, keys, ['seated', 'u1', 1, 'A-1-1']);
    expect((await sut.sMembers('{e}:stock')).sort()).toEqual(['A-1-1', 'A-1-2']);
  });

  it('logs releases while a rebuild has the event frozen and adds back those after its read', async () => {
    const withLog = [...keys, '{e}:released'];
    await sut.hSet('{e}:released', { '#': 0 });
    expect(await sut.runScript(RELEASE, withLog, ['ga', 'u1', 2])).toBe(0); // before the read: in SQL already
    expect(await sut.runScript(RELEASE, withLog, ['ga', 'u2', 3])).toBe(0); // after it began: maybe not
    expect(await sut.get('{e}:stock')).toBeNull();
    expect(await sut.runScript(REBUILD_COMMIT, withLog, ['ga', '42', 1, 1, 'u3', 2, 10])).toBe(3);
    expect(await sut.get('{e}:stock')).toBe('13');
    expect(await sut.hGetAll('{e}:users')).toEqual({ u3: '2' });
    expect(await sut.get('{e}:ready')).toBe('42');
    expect(await sut.hGetAll('{e}:released')).toEqual({});
    expect(await sut.runScript(RELEASE, withLog, ['ga', 'u3', 1])).toBe(1); // ready again: applied
    expect(await sut.get('{e}:stock')).toBe('14');
  });

  it('rebuilds a seated event and adds back the seats released during the read', async () => {
    const withLog = [...keys, '{e}:released'];
    await sut.sAdd('{e}:stock', ['stale']);
    await sut.hSet('{e}:released', { '#': 0 });
    await sut.runScript(RELEASE, withLog, ['seated', 'u1', 2, 'A-1-3', 'A-1-4']);
    expect(await sut.runScript(REBUILD_COMMIT, withLog, ['seated', '1', 0, 0, 'A-1-1', 'A-1-2'])).toBe(2);
    expect((await sut.sMembers('{e}:stock')).sort()).toEqual(['A-1-1', 'A-1-2', 'A-1-3', 'A-1-4']);
  });
});
