import { MemoryKeyValueStore } from '../../../platform/kv/memory-key-value-store';
import { RELEASE, TRY_HOLD } from './inventory-scripts';

describe('inventory scripts (local body)', () => {
  const keys = ['e:stock', 'e:users', 'e:ready'];
  let sut: MemoryKeyValueStore;
  beforeEach(async () => {
    sut = new MemoryKeyValueStore();
  });
  afterEach(() => sut.close());

  it('answers missing until the ready marker exists', async () => {
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u1', 4, 1])).toEqual(['missing']);
  });

  it('takes GA places down to zero, then sold_out, and enforces the per-user limit', async () => {
    await sut.set('e:stock', '3');
    await sut.set('e:ready', '1');
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u1', 2, 2])).toEqual(['ok']);
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u1', 2, 1])).toEqual(['limit', '2']);
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u2', 2, 2])).toEqual(['sold_out', '1']);
    expect(await sut.runScript(TRY_HOLD, keys, ['ga', 'u2', 2, 1])).toEqual(['ok']);
    expect(await sut.get('e:stock')).toBe('0');
    expect(await sut.runScript(RELEASE, keys, ['ga', 'u1', 2])).toBe(1);
    expect(await sut.get('e:stock')).toBe('2');
    expect(await sut.hGet('e:users', 'u1')).toBeNull();
  });

  it('takes named seats all or nothing and names the unavailable ones', async () => {
    await sut.sAdd('e:stock', ['A-1-1', 'A-1-2']);
    await sut.set('e:ready', '1');
    expect(await sut.runScript(TRY_HOLD, keys, ['seated', 'u1', 4, 2, 'A-1-1', 'A-1-3'])).toEqual(['seat_unavailable', 'A-1-3']);
    expect(await sut.sCard('e:stock')).toBe(2);
    expect(await sut.runScript(TRY_HOLD, keys, ['seated', 'u1', 4, 1, 'A-1-1'])).toEqual(['ok']);
    expect(await sut.sMembers('e:stock')).toEqual(['A-1-2']);
    await sut.runScript(RELEASE, keys, ['seated', 'u1', 1, 'A-1-1']);
    expect((await sut.sMembers('e:stock')).sort()).toEqual(['A-1-1', 'A-1-2']);
  });
});
