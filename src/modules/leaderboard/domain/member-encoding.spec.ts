import { decodeMember, encodeMember, MAX_SEQ } from './member-encoding';

/** Byte-wise comparison, like Redis memcmp on members. */
const lex = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe(encodeMember.name, () => {
  const sut = encodeMember;

  it('is fixed width and round-trips through decodeMember', () => {
    for (const order of ['asc', 'desc'] as const) {
      for (const seq of [0, 1, 42, 1_700_000_000_000, MAX_SEQ]) {
        const m = sut(order, seq, 'p:1|weird');
        expect(m.indexOf('|')).toBe(16);
        expect(decodeMember(order, m)).toEqual({ seq, playerId: 'p:1|weird' });
      }
    }
  });

  it('asc: lex ascending (ZRANGE) puts the earlier seq first', () => {
    const early = sut('asc', 9, 'zzz');
    const late = sut('asc', 10, 'aaa');
    expect(lex(early, late)).toBeLessThan(0);
  });

  it('desc: lex descending (ZREVRANGE) puts the earlier seq first', () => {
    const early = sut('desc', 9, 'aaa');
    const late = sut('desc', 10, 'zzz');
    expect(lex(early, late)).toBeGreaterThan(0);
  });

  it('random seqs: member order matches reached-first order on both boards', () => {
    const seqs = Array.from({ length: 500 }, () => Math.floor(Math.random() * 2 ** 50));
    const bySeq = [...seqs].sort((a, b) => a - b);
    const asc = seqs.map((s, i) => sut('asc', s, `p${i}`)).sort(lex);
    const desc = seqs.map((s, i) => sut('desc', s, `p${i}`)).sort(lex).reverse();
    expect(asc.map((m) => decodeMember('asc', m).seq)).toEqual(bySeq);
    expect(desc.map((m) => decodeMember('desc', m).seq)).toEqual(bySeq);
  });

  it('rejects invalid seq and empty player ids', () => {
    expect(() => sut('asc', -1, 'p')).toThrow(RangeError);
    expect(() => sut('asc', 1.5, 'p')).toThrow(RangeError);
    expect(() => sut('asc', MAX_SEQ + 1, 'p')).toThrow(RangeError);
    expect(() => sut('asc', 1, '')).toThrow(RangeError);
  });
});

describe(decodeMember.name, () => {
  it.each(['', 'abc', '000000000000001|', '00000000000000x1|p', '0000000000000001-p', '9999999999999999|p'])(
    'rejects %p',
    (m) => {
      expect(() => decodeMember('asc', m)).toThrow(RangeError);
    },
  );
});
