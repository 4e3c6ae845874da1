/** One charge for one order. `idempotencyKey` lets the provider deduplicate retried charges. */
export interface ChargeRequest {
  orderId: string;
  amountCents: number;
  paymentMethod: string;
  idempotencyKey: string;
}

export type ChargeResult =
  | { status: 'approved'; reference: string }
  | { status: 'declined'; reason: string }
  /** Accepted; the outcome arrives later on POST /payments/webhook. */
  | { status: 'pending'; reference: string };

/** What a void did: refunded a captured charge, cancelled an open one, or fenced a charge never made. */
export type VoidResult = 'refunded' | 'voided';

/** A failure worth retrying (timeouts, 5xx); a decline is a result, not an error. */
export class TransientPaymentError extends Error {
  override name = 'TransientPaymentError';
}

/** The payment service provider. Built in: SimulatedPaymentProvider (adapters/). */
export abstract class PaymentProvider {
  abstract charge(req: ChargeRequest): Promise<ChargeResult>;
  /**
   * Gives up on the payment of `idempotencyKey` for good (like cancelling a payment intent):
   * a captured charge is refunded, a pending one cancelled, and a charge that arrives later with
   * the same key is declined. Idempotent; the app calls it for every order that ends unsold.
   */
  abstract void(idempotencyKey: string, orderId: string): Promise<VoidResult>;
}
