/**
 * Order state machine: PENDING → CONFIRMED | FAILED | EXPIRED, all three terminal.
 *
 * - An order is created PENDING by a checkout and holds its seats until its payment deadline
 *   (`expiresAt` = the later of the hold's expiry and checkout time + the payment window).
 * - The first outcome recorded wins; each is a guarded transition on the locked order row:
 *   a payment success → CONFIRMED (seats sold, tickets issued), a payment failure → FAILED,
 *   the deadline passing with no outcome → EXPIRED. FAILED and EXPIRED release the seats.
 * - A success that arrives for an order already FAILED or EXPIRED never revives it: its seats
 *   may be sold to someone else by then. The money is given back instead (VOID_PAYMENT: the
 *   provider voids the payment, refunding it if it was captured). FAILED and EXPIRED always void,
 *   so a charge that raced the decision (or whose answer a crash lost) is refunded as well.
 * - Nothing else moves a terminal order; duplicates (webhook retries, job retries) are no-ops.
 */
export type OrderState = 'PENDING' | 'CONFIRMED' | 'FAILED' | 'EXPIRED';

export type OrderEvent =
  | { type: 'PAYMENT_SUCCEEDED'; atMs: number; paymentRef: string }
  | { type: 'PAYMENT_FAILED'; atMs: number; reason?: string }
  | { type: 'DEADLINE_PASSED'; atMs: number };

export type OrderEffect = { type: 'MARK_SOLD' } | { type: 'RELEASE_SEATS' } | { type: 'VOID_PAYMENT' };

export interface OrderSnapshot {
  state: OrderState;
  /** Payment deadline (epoch ms). */
  expiresAt: number;
  failureReason?: string | null;
  paymentRef?: string | null;
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
    case 'PAYMENT_SUCCEEDED':
      if (order.state === 'PENDING') {
        return { order: { ...order, state: 'CONFIRMED', paymentRef: event.paymentRef }, effects: [{ type: 'MARK_SOLD' }], changed: true };
      }
      // Money for an order that was given up on goes back; a duplicate success is a no-op.
      return same(order, order.state === 'CONFIRMED' ? [] : [{ type: 'VOID_PAYMENT' }]);
    case 'PAYMENT_FAILED':
      if (order.state !== 'PENDING') return same(order);
      return {
        order: { ...order, state: 'FAILED', failureReason: event.reason ?? 'payment_failed' },
        effects: [{ type: 'RELEASE_SEATS' }, { type: 'VOID_PAYMENT' }],
        changed: true,
      };
    case 'DEADLINE_PASSED':
      if (order.state !== 'PENDING' || event.atMs < order.expiresAt) return same(order);
      return {
        order: { ...order, state: 'EXPIRED', failureReason: 'payment_deadline_passed' },
        effects: [{ type: 'RELEASE_SEATS' }, { type: 'VOID_PAYMENT' }],
        changed: true,
      };
  }
}

/** The payment deadline of a checkout: never earlier than the hold's expiry the buyer was shown. */
export function paymentDeadline(holdExpiresAt: number, checkoutAt: number, paymentWindowMs: number): number {
  return Math.max(holdExpiresAt, checkoutAt + paymentWindowMs);
}

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_STATES.includes(state);
}
