import {
  isValidBoardId,
  isValidPlayerId,
  isValidScore,
  validateBoardConfig,
  validateMetadata,
} from './board-config';

describe(validateBoardConfig.name, () => {
  const sut = validateBoardConfig;
  const valid = { id: 'season:1_eu-west', order: 'asc', updatePolicy: 'increment', shards: 16, metadata: { a: 1 } };

  it('accepts a valid config', () => {
    expect(sut(valid)).toEqual({ ok: true, value: valid });
  });

  it('applies defaults', () => {
    expect(sut({ id: 'b' })).toEqual({
      ok: true,
      value: { id: 'b', order: 'desc', updatePolicy: 'overwrite', shards: 1, metadata: {} },
    });
  });

  it.each([
    ['empty id', { id: '' }],
    ['long id', { id: 'a'.repeat(65) }],
    ['bad chars', { id: 'a b' }],
    ['bad order', { id: 'a', order: 'up' }],
    ['bad policy', { id: 'a', updatePolicy: 'max' }],
    ['zero shards', { id: 'a', shards: 0 }],
    ['too many shards', { id: 'a', shards: 1025 }],
    ['fractional shards', { id: 'a', shards: 1.5 }],
    ['array metadata', { id: 'a', metadata: [] }],
    ['big metadata', { id: 'a', metadata: { x: 'y'.repeat(1020) } }],
  ])('rejects %s', (_name, input) => {
    expect(sut(input).ok).toBe(false);
  });

  it('rejects non-objects and collects all errors', () => {
    expect(sut(null).ok).toBe(false);
    const r = sut({ id: '', order: 'x', shards: 2000 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toHaveLength(3);
  });

  it('accepts boundary values', () => {
    expect(sut({ id: 'a'.repeat(64), shards: 1024 }).ok).toBe(true);
  });
});

describe(validateMetadata.name, () => {
  it('measures UTF-8 bytes, not characters', () => {
    // {"k":"..."} is 8 bytes of framing; 'é' is 2 bytes
    expect(validateMetadata({ k: 'é'.repeat(508) })).toEqual([]);
    expect(validateMetadata({ k: 'é'.repeat(509) })).toHaveLength(1);
  });
  it('rejects non-serialisable values', () => {
    expect(validateMetadata({ n: BigInt(1) })).toHaveLength(1);
  });
});

describe(isValidScore.name, () => {
  it('accepts safe integers only', () => {
    expect(isValidScore(0)).toBe(true);
    expect(isValidScore(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(isValidScore(-Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(isValidScore(2 ** 53)).toBe(false);
    expect(isValidScore(1.5)).toBe(false);
    expect(isValidScore(Infinity)).toBe(false);
    expect(isValidScore(NaN)).toBe(false);
    expect(isValidScore('1')).toBe(false);
  });
});

describe(isValidBoardId.name, () => {
  it('checks ids', () => {
    expect(isValidBoardId('a:b_c-d')).toBe(true);
    expect(isValidBoardId(1)).toBe(false);
    expect(isValidPlayerId('p|1')).toBe(false);
    expect(isValidPlayerId('player.1@x')).toBe(true);
  });
});
