import { checkCounts, checkInventory } from './inventory-invariant';

describe(checkInventory.name, () => {
  const sut = checkInventory;
  const all = ['A-1-1', 'A-1-2', 'A-1-3', 'A-1-4'];

  it('accepts a consistent snapshot', () => {
    expect(sut({ capacity: 4, available: ['A-1-1'], held: ['A-1-2', 'A-1-3'], sold: ['A-1-4'] }, all)).toEqual([]);
  });

  it('detects a seat in two states (and the resulting count mismatch)', () => {
    const v = sut({ capacity: 4, available: ['A-1-1', 'A-1-2'], held: ['A-1-2', 'A-1-3'], sold: ['A-1-4'] }, all);
    expect(v).toContainEqual({ type: 'DUPLICATE', seatId: 'A-1-2', states: ['AVAILABLE', 'HELD'] });
    expect(v).toContainEqual({ type: 'COUNT_MISMATCH', capacity: 4, total: 5 });
  });

  it('detects a seat listed twice in the same state', () => {
    const v = sut({ capacity: 2, available: [], held: [], sold: ['A-1-1', 'A-1-1'] });
    expect(v).toEqual([{ type: 'DUPLICATE', seatId: 'A-1-1', states: ['SOLD', 'SOLD'] }]);
  });

  it('detects lost and unknown seats', () => {
    const v = sut({ capacity: 4, available: ['A-1-1', 'B-9-9'], held: ['A-1-2'], sold: ['A-1-3'] }, all);
    expect(v).toEqual([
      { type: 'UNKNOWN_SEAT', seatId: 'B-9-9' },
      { type: 'MISSING_SEAT', seatId: 'A-1-4' },
    ]);
    expect(sut({ capacity: 4, available: ['A-1-1'], held: [], sold: [] })).toEqual([
      { type: 'COUNT_MISMATCH', capacity: 4, total: 1 },
    ]);
  });
});

describe(checkCounts.name, () => {
  it('checks available + held + sold = capacity with non-negative counts', () => {
    expect(checkCounts({ capacity: 10, available: 5, held: 3, sold: 2 })).toBe(true);
    expect(checkCounts({ capacity: 10, available: 5, held: 3, sold: 3 })).toBe(false);
    expect(checkCounts({ capacity: 10, available: 12, held: -2, sold: 0 })).toBe(false);
  });
});
