import { canHold, computeAmount, holdExpiresAt, isHoldExpired, planHold, salesOpen } from './hold-rules';
import { EventConfig, Section } from './event-config';

describe(canHold.name, () => {
  const sut = canHold;
  it('allows up to the per-user maximum', () => {
    expect(sut(0, 4, 4)).toEqual({ ok: true });
    expect(sut(2, 2, 4)).toEqual({ ok: true });
    expect(sut(3, 2, 4).ok).toBe(false);
  });
  it('rejects non-positive or fractional requests', () => {
    expect(sut(0, 0, 4).ok).toBe(false);
    expect(sut(0, 1.5, 4).ok).toBe(false);
    expect(sut(-1, 1, 4).ok).toBe(false);
  });
});

describe(salesOpen.name, () => {
  const sut = salesOpen;
  it('is open on [open, close)', () => {
    const c = { salesOpenAt: 1000, salesCloseAt: 2000 };
    expect(sut(c, 999).ok).toBe(false);
    expect(sut(c, 1000).ok).toBe(true);
    expect(sut(c, 1999).ok).toBe(true);
    expect(sut(c, 2000)).toEqual({ ok: false, reason: 'sales closed' });
    expect(sut({ salesOpenAt: 1000 }, 10 ** 13).ok).toBe(true);
  });
});

describe(isHoldExpired.name, () => {
  it('expires at created + ttl, inclusive', () => {
    const expiresAt = holdExpiresAt(10_000, 600);
    expect(expiresAt).toBe(610_000);
    expect(isHoldExpired({ expiresAt }, 609_999)).toBe(false);
    expect(isHoldExpired({ expiresAt }, 610_000)).toBe(true);
  });
});

describe(computeAmount.name, () => {
  const sections: Section[] = [
    { id: 'A', kind: 'seated', rows: 2, seatsPerRow: 2, price: 5000 },
    { id: 'G', kind: 'ga', capacity: 10, price: 1250 },
  ];
  const sut = computeAmount;
  it('sums section prices', () => {
    expect(sut({ sections }, ['A-1-1', 'A-2-2', 'G-GA-3'])).toBe(11250);
  });
  it('rejects unknown, duplicate and empty selections', () => {
    expect(() => sut({ sections }, ['B-1-1'])).toThrow(RangeError);
    expect(() => sut({ sections }, ['A-1-1', 'A-1-1'])).toThrow(RangeError);
    expect(() => sut({ sections }, [])).toThrow(RangeError);
  });
});

describe(planHold.name, () => {
  const sut = planHold;
  const config: EventConfig = {
    id: 'e',
    sections: [
      { id: 'A', kind: 'seated', rows: 2, seatsPerRow: 2, price: 5000 },
      { id: 'G', kind: 'ga', capacity: 10, price: 1250 },
    ],
    holdTtlSeconds: 600,
    maxPerUser: 3,
    salesOpenAt: 1000,
    salesCloseAt: 10_000_000,
    currency: 'EUR',
  };

  it('plans a valid hold with amount and expiry', () => {
    expect(sut(config, { userHeldCount: 1, seatIds: ['A-1-1', 'G-GA-2'], nowMs: 2000 })).toEqual({
      ok: true,
      seatIds: ['A-1-1', 'G-GA-2'],
      amount: 6250,
      expiresAt: 602_000,
    });
  });

  it.each([
    ['EMPTY', { userHeldCount: 0, seatIds: [], nowMs: 2000 }],
    ['DUPLICATE_SEAT', { userHeldCount: 0, seatIds: ['A-1-1', 'A-1-1'], nowMs: 2000 }],
    ['UNKNOWN_SEAT', { userHeldCount: 0, seatIds: ['A-3-1'], nowMs: 2000 }],
    ['SALES_NOT_OPEN', { userHeldCount: 0, seatIds: ['A-1-1'], nowMs: 999 }],
    ['SALES_CLOSED', { userHeldCount: 0, seatIds: ['A-1-1'], nowMs: 10_000_000 }],
    ['LIMIT_EXCEEDED', { userHeldCount: 2, seatIds: ['A-1-1', 'A-1-2'], nowMs: 2000 }],
  ])('rejects with %s', (rejection, request) => {
    expect(sut(config, request)).toMatchObject({ ok: false, rejection });
  });
});
