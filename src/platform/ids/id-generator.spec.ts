import { UuidV7IdGenerator } from './id-generator';

/** Milliseconds since the epoch in a UUIDv7's first 48 bits. */
const uuidV7Time = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe(UuidV7IdGenerator.name, () => {
  const sut = new UuidV7IdGenerator();

  it('mints unique ids that sort in creation order', () => {
    const ids = Array.from({ length: 20000 }, () => sut.next());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('encodes the creation time', () => {
    const before = Date.now();
    const t = uuidV7Time(sut.next());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
