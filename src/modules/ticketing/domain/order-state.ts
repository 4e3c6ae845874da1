/**
 * Order state machine: PENDING → CONFIRMED | FAILED | EXPIRED.
 *
 * Paid-after-expiry policy (documented choice): if a payment succeeds after the hold expired
 * (the order is already EXPIRED, or the payment's time is at/after the hold expiry), the order is
 * CONFIRMED only when the adapter could re-acquire the very same seats atomically
 * (`seatsReacquired: true`, e.g. all still AVAILABLE and flipped to SOLD in one transaction);
 * otherwise it is FAILED and the payment is refunded. Payment is never kept without seats, and
 * seats are never sold twice. Terminal states absorb duplicates: a repeated success on CONFIRMED
 * is a no-op; a success on FAILED triggers a refund (money arrived for an order we gave up on).
 */
export type OrderState = 'PENDING' | 'CONFIRMED' | 'FAILED' | 'EXPIRED';

export type OrderEvent =
  | { type: 'PAYMENT_SUCCEEDED'; atMs: number; paymentId: string; seatsReacquired?: boolean }
  | { type: 'PAYMENT_FAILED'; atMs: number; reason?: string }
  | { type: 'HOLD_EXPIRED'; atMs: number };

export type OrderEffect =
  | { type: 'MARK_SOLD' }
  | { type: 'RELEASE_SEATS' }
  | { type: 'REFUND'; paymentId: string };

export interface OrderSnapshot {
  state: OrderState;
  holdExpiresAt: number;
  failureReason?: string;
  paymentId?: string;
}

export interface Transition {
  order: OrderSnapshot;
  effects: OrderEffect[];
  /** false when the event was absorbed with no state change (duplicate / late event). */
  changed: boolean;
}

export const TERMINAL_STATES: readonly OrderState[] = ['CONFIRMED', 'FAILED', 'EXPIRED'];

const same = (order: OrderSnapshot, effects: OrderEffect[] = []): Transition => ({ order, effects, changed: false });

export function transition(order: OrderSnapshot, event: OrderEvent): Transition {
  switch (event.type) {
    case 'PAYMENT_SUCCEEDED': {
      const late = order.state === 'EXPIRED' || (order.state === 'PENDING' && event.atMs >= order.holdExpiresAt);
      if (order.state === 'CONFIRMED') {
        // Duplicate webhook for the same payment is a no-op; a second, different payment is refunded.
        return same(order, order.paymentId === event.paymentId ? [] : [{ type: 'REFUND', paymentId: event.paymentId }]);
      }
      if (order.state === 'FAILED') return same(order, [{ type: 'REFUND', paymentId: event.paymentId }]);
      if (!late) {
        return { order: { ...order, state: 'CONFIRMED', paymentId: event.paymentId }, effects: [{ type: 'MARK_SOLD' }], changed: true };
      }
      if (event.seatsReacquired === true) {
        return { order: { ...order, state: 'CONFIRMED', paymentId: event.paymentId }, effects: [{ type: 'MARK_SOLD' }], changed: true };
      }
      const effects: OrderEffect[] = [{ type: 'REFUND', paymentId: event.paymentId }];
      // Still PENDING past expiry: the held seats must be released too.
      if (order.state === 'PENDING') effects.unshift({ type: 'RELEASE_SEATS' });
      return {
        order: { ...order, state: 'FAILED', paymentId: event.paymentId, failureReason: 'PAID_AFTER_EXPIRY_SEATS_GONE' },
        effects,
        changed: true,
      };
    }
    case 'PAYMENT_FAILED':
      if (order.state !== 'PENDING') return same(order);
      return {
        order: { ...order, state: 'FAILED', failureReason: event.reason ?? 'PAYMENT_FAILED' },
        effects: [{ type: 'RELEASE_SEATS' }],
        changed: true,
      };
    case 'HOLD_EXPIRED':
      if (order.state !== 'PENDING' || event.atMs < order.holdExpiresAt) return same(order);
      return { order: { ...order, state: 'EXPIRED' }, effects: [{ type: 'RELEASE_SEATS' }], changed: true };
  }
}

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_STATES.includes(state);
}
