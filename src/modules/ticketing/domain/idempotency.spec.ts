import { canonicalJson, decideIdempotency, idempotencyScope, requestHash } from './idempotency';

describe(canonicalJson.name, () => {
  it('sorts keys recursively and drops undefined properties', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
  });
  it('rejects non-JSON values', () => {
    expect(() => canonicalJson(NaN)).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });
});

describe(requestHash.name, () => {
  const sut = requestHash;
  it('is the same for the same request regardless of key order', () => {
    expect(sut('post', '/holds', { seats: ['A-1-1'], eventId: 'e' })).toBe(sut('POST', '/holds', { eventId: 'e', seats: ['A-1-1'] }));
  });
  it('differs for a different body, path or method', () => {
    const h = sut('POST', '/holds', { seats: ['A-1-1'] });
    expect(sut('POST', '/holds', { seats: ['A-1-2'] })).not.toBe(h);
    expect(sut('POST', '/orders', { seats: ['A-1-1'] })).not.toBe(h);
    expect(sut('PUT', '/holds', { seats: ['A-1-1'] })).not.toBe(h);
  });
});

describe(decideIdempotency.name, () => {
  const sut = decideIdempotency;
  const h = requestHash('POST', '/holds', { n: 1 });
  const other = requestHash('POST', '/holds', { n: 2 });

  it('proceeds on first use', () => {
    expect(sut(undefined, h, 0)).toEqual({ action: 'PROCEED' });
  });
  it('replays the stored result for the same key and body', () => {
    const response = { status: 201, body: { holdId: 'h1' } };
    expect(sut({ requestHash: h, status: 'COMPLETED', response }, h, 0)).toEqual({ action: 'REPLAY', response });
  });
  it('conflicts for the same key with a different body', () => {
    expect(sut({ requestHash: h, status: 'COMPLETED', response: {} }, other, 0)).toEqual({ action: 'CONFLICT' });
    expect(sut({ requestHash: h, status: 'IN_PROGRESS', lockedUntil: 10 }, other, 0)).toEqual({ action: 'CONFLICT' });
  });
  it('reports in-progress until the lock lapses, then lets a retry take over', () => {
    const rec = { requestHash: h, status: 'IN_PROGRESS' as const, lockedUntil: 1000 };
    expect(sut(rec, h, 999)).toEqual({ action: 'IN_PROGRESS' });
    expect(sut(rec, h, 1000)).toEqual({ action: 'PROCEED' });
  });
});

describe(idempotencyScope.name, () => {
  it('scopes keys per caller and validates the key', () => {
    expect(idempotencyScope('user-1', 'abcdefgh')).toBe('user-1:abcdefgh');
    expect(() => idempotencyScope('u', 'short')).toThrow(RangeError);
    expect(() => idempotencyScope('u', 'has space in it')).toThrow(RangeError);
  });
});
