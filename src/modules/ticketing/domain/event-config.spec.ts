import { allSeatIds, eventCapacity, parseSeatId, seatExists, seatId, validateEventConfig } from './event-config';

const base = {
  id: 'concert-2026',
  sections: [
    { id: 'A', kind: 'seated', rows: 2, seatsPerRow: 3, price: 5000 },
    { id: 'FLOOR', kind: 'ga', capacity: 4, price: 3000 },
  ],
  holdTtlSeconds: 600,
  maxPerUser: 4,
  salesOpenAt: '2026-01-01T10:00:00Z',
};

describe(validateEventConfig.name, () => {
  const sut = validateEventConfig;

  it('accepts a valid config and normalises times and defaults', () => {
    const r = sut(base);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.salesOpenAt).toBe(Date.parse('2026-01-01T10:00:00Z'));
      expect(r.value.currency).toBe('EUR');
      expect(r.value.salesCloseAt).toBeUndefined();
    }
  });

  it('infers kind from the fields', () => {
    const r = sut({ ...base, sections: [{ id: 'X', capacity: 10, price: 1 }, { id: 'Y', rows: 1, seatsPerRow: 1, price: 1 }] });
    expect(r.ok && r.value.sections.map((s) => s.kind)).toEqual(['ga', 'seated']);
  });

  it.each([
    ['no sections', { ...base, sections: [] }],
    ['zero capacity GA', { ...base, sections: [{ id: 'G', kind: 'ga', capacity: 0, price: 1 }] }],
    ['zero rows', { ...base, sections: [{ id: 'S', kind: 'seated', rows: 0, seatsPerRow: 3, price: 1 }] }],
    ['negative price', { ...base, sections: [{ id: 'S', kind: 'seated', rows: 1, seatsPerRow: 3, price: -1 }] }],
    ['fractional price', { ...base, sections: [{ id: 'S', kind: 'ga', capacity: 1, price: 1.5 }] }],
    ['hyphen in section id', { ...base, sections: [{ id: 'S-1', kind: 'ga', capacity: 1, price: 1 }] }],
    ['unknown kind', { ...base, sections: [{ id: 'S', kind: 'box', capacity: 1, price: 1 }] }],
    ['duplicate sections', { ...base, sections: [base.sections[0], base.sections[0]] }],
    ['ttl 0', { ...base, holdTtlSeconds: 0 }],
    ['maxPerUser 0', { ...base, maxPerUser: 0 }],
    ['bad salesOpenAt', { ...base, salesOpenAt: 'tomorrow' }],
    ['close before open', { ...base, salesCloseAt: '2025-01-01T00:00:00Z' }],
    ['bad currency', { ...base, currency: 'eur' }],
    ['bad id', { ...base, id: 'a b' }],
    ['too big', { ...base, sections: [{ id: 'G', kind: 'ga', capacity: 2_000_000, price: 1 }] }],
  ])('rejects %s', (_n, input) => {
    expect(sut(input).ok).toBe(false);
  });

  it('rejects non-objects', () => {
    expect(sut('x')).toEqual({ ok: false, errors: ['config must be an object'] });
  });
});

describe(eventCapacity.name, () => {
  it('sums seated rows*seats and GA capacity', () => {
    const r = validateEventConfig(base);
    expect(r.ok && eventCapacity(r.value)).toBe(10);
  });
});

describe(seatId.name, () => {
  it('formats and parses <section>-<row>-<seat>', () => {
    expect(seatId('A', 2, 3)).toBe('A-2-3');
    expect(parseSeatId('A-2-3')).toEqual({ section: 'A', row: '2', seat: 3 });
    expect(parseSeatId('FLOOR-GA-4')).toEqual({ section: 'FLOOR', row: 'GA', seat: 4 });
    expect(parseSeatId('A-0-1')).toBeUndefined();
    expect(parseSeatId('A-1')).toBeUndefined();
  });

  it('generates every unit once, matching capacity', () => {
    const r = validateEventConfig(base);
    if (!r.ok) throw new Error('invalid');
    const ids = allSeatIds(r.value);
    expect(ids).toHaveLength(eventCapacity(r.value));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 4)).toEqual(['A-1-1', 'A-1-2', 'A-1-3', 'A-2-1']);
    expect(ids.slice(-1)).toEqual(['FLOOR-GA-4']);
    for (const id of ids) expect(seatExists(r.value, id)).toBe(true);
    for (const id of ['A-3-1', 'A-1-4', 'FLOOR-GA-5', 'FLOOR-1-1', 'A-GA-1', 'B-1-1', 'junk']) {
      expect(seatExists(r.value, id)).toBe(false);
    }
  });
});
