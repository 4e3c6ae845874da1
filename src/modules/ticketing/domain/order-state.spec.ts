import { OrderSnapshot, isTerminal, transition } from './order-state';

describe(transition.name, () => {
  const sut = transition;
  const pending: OrderSnapshot = { state: 'PENDING', holdExpiresAt: 1000 };
  const paid = (atMs: number, extra: { seatsReacquired?: boolean; paymentId?: string } = {}) =>
    ({ type: 'PAYMENT_SUCCEEDED', atMs, paymentId: extra.paymentId ?? 'pay_1', seatsReacquired: extra.seatsReacquired }) as const;

  it('PENDING + payment in time → CONFIRMED, seats sold', () => {
    const t = sut(pending, paid(999));
    expect(t.order.state).toBe('CONFIRMED');
    expect(t.order.paymentId).toBe('pay_1');
    expect(t.effects).toEqual([{ type: 'MARK_SOLD' }]);
    expect(t.changed).toBe(true);
  });

  it('PENDING + payment failure → FAILED, seats released', () => {
    const t = sut(pending, { type: 'PAYMENT_FAILED', atMs: 10, reason: 'card_declined' });
    expect(t.order).toMatchObject({ state: 'FAILED', failureReason: 'card_declined' });
    expect(t.effects).toEqual([{ type: 'RELEASE_SEATS' }]);
  });

  it('PENDING + expiry → EXPIRED, seats released; early expiry events are ignored', () => {
    expect(sut(pending, { type: 'HOLD_EXPIRED', atMs: 999 }).changed).toBe(false);
    const t = sut(pending, { type: 'HOLD_EXPIRED', atMs: 1000 });
    expect(t.order.state).toBe('EXPIRED');
    expect(t.effects).toEqual([{ type: 'RELEASE_SEATS' }]);
  });

  describe('paid after expiry', () => {
    const expired: OrderSnapshot = { state: 'EXPIRED', holdExpiresAt: 1000 };

    it('EXPIRED + payment + seats re-acquired → CONFIRMED', () => {
      const t = sut(expired, paid(5000, { seatsReacquired: true }));
      expect(t.order.state).toBe('CONFIRMED');
      expect(t.effects).toEqual([{ type: 'MARK_SOLD' }]);
    });

    it('EXPIRED + payment + seats gone → FAILED with refund', () => {
      const t = sut(expired, paid(5000, { seatsReacquired: false }));
      expect(t.order).toMatchObject({ state: 'FAILED', failureReason: 'PAID_AFTER_EXPIRY_SEATS_GONE' });
      expect(t.effects).toEqual([{ type: 'REFUND', paymentId: 'pay_1' }]);
    });

    it('still PENDING but paid at/after expiry is treated as late (release + refund unless re-acquired)', () => {
      expect(sut(pending, paid(1000)).effects).toEqual([{ type: 'RELEASE_SEATS' }, { type: 'REFUND', paymentId: 'pay_1' }]);
      expect(sut(pending, paid(1000, { seatsReacquired: true })).order.state).toBe('CONFIRMED');
    });
  });

  describe('terminal states', () => {
    it('duplicate success on CONFIRMED is a no-op; a different payment is refunded', () => {
      const confirmed = sut(pending, paid(10)).order;
      expect(sut(confirmed, paid(20))).toEqual({ order: confirmed, effects: [], changed: false });
      expect(sut(confirmed, paid(20, { paymentId: 'pay_2' })).effects).toEqual([{ type: 'REFUND', paymentId: 'pay_2' }]);
    });

    it('success on FAILED is refunded; failure/expiry on terminal states are ignored', () => {
      const failed: OrderSnapshot = { state: 'FAILED', holdExpiresAt: 1000 };
      expect(sut(failed, paid(10))).toEqual({ order: failed, effects: [{ type: 'REFUND', paymentId: 'pay_1' }], changed: false });
      for (const state of ['CONFIRMED', 'FAILED', 'EXPIRED'] as const) {
        const o: OrderSnapshot = { state, holdExpiresAt: 1000 };
        expect(sut(o, { type: 'PAYMENT_FAILED', atMs: 2000 }).changed).toBe(false);
        expect(sut(o, { type: 'HOLD_EXPIRED', atMs: 2000 }).changed).toBe(false);
      }
    });
  });
});

describe(isTerminal.name, () => {
  it('only PENDING is not terminal', () => {
    expect(isTerminal('PENDING')).toBe(false);
    expect(isTerminal('EXPIRED')).toBe(true);
  });
});
