import { OrderSnapshot, isTerminal, paymentDeadline, transition } from './order-state';

describe(transition.name, () => {
  const sut = transition;
  const pending: OrderSnapshot = { state: 'PENDING', expiresAt: 1000 };
  const paid = (atMs: number, paymentRef = 'pay_1') => ({ type: 'PAYMENT_SUCCEEDED', atMs, paymentRef }) as const;

  it('PENDING + payment → CONFIRMED, seats sold (even after the deadline, while the seats are still its own)', () => {
    for (const at of [999, 5000]) {
      const t = sut(pending, paid(at));
      expect(t.order).toMatchObject({ state: 'CONFIRMED', paymentRef: 'pay_1' });
      expect(t.effects).toEqual([{ type: 'MARK_SOLD' }]);
      expect(t.changed).toBe(true);
    }
  });

  it('PENDING + payment failure → FAILED, seats released, payment voided', () => {
    const t = sut(pending, { type: 'PAYMENT_FAILED', atMs: 10, reason: 'card_declined' });
    expect(t.order).toMatchObject({ state: 'FAILED', failureReason: 'card_declined' });
    expect(t.effects).toEqual([{ type: 'RELEASE_SEATS' }, { type: 'VOID_PAYMENT' }]);
  });

  it('PENDING + deadline → EXPIRED, seats released, payment voided; an early deadline event is ignored', () => {
    expect(sut(pending, { type: 'DEADLINE_PASSED', atMs: 999 })).toEqual({ order: pending, effects: [], changed: false });
    const t = sut(pending, { type: 'DEADLINE_PASSED', atMs: 1000 });
    expect(t.order).toMatchObject({ state: 'EXPIRED', failureReason: 'payment_deadline_passed' });
    expect(t.effects).toEqual([{ type: 'RELEASE_SEATS' }, { type: 'VOID_PAYMENT' }]);
  });

  it('a success after FAILED or EXPIRED does not revive the order: the payment is voided', () => {
    for (const state of ['FAILED', 'EXPIRED'] as const) {
      const o: OrderSnapshot = { state, expiresAt: 1000 };
      expect(sut(o, paid(500))).toEqual({ order: o, effects: [{ type: 'VOID_PAYMENT' }], changed: false });
    }
  });

  it('duplicates and late failures on terminal states are no-ops', () => {
    const confirmed = sut(pending, paid(10)).order;
    expect(sut(confirmed, paid(20))).toEqual({ order: confirmed, effects: [], changed: false });
    for (const state of ['CONFIRMED', 'FAILED', 'EXPIRED'] as const) {
      const o: OrderSnapshot = { state, expiresAt: 1000 };
      expect(sut(o, { type: 'PAYMENT_FAILED', atMs: 2000 }).changed).toBe(false);
      expect(sut(o, { type: 'DEADLINE_PASSED', atMs: 2000 })).toEqual({ order: o, effects: [], changed: false });
    }
  });
});

describe(paymentDeadline.name, () => {
  it('is the later of the hold expiry and checkout + window', () => {
    expect(paymentDeadline(10_000, 1_000, 5_000)).toBe(10_000);
    expect(paymentDeadline(10_000, 9_000, 5_000)).toBe(14_000);
  });
});

describe(isTerminal.name, () => {
  it('only PENDING is not terminal', () => {
    expect(isTerminal('PENDING')).toBe(false);
    expect(isTerminal('EXPIRED')).toBe(true);
  });
});
