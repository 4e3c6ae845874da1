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

/** A failure worth retrying (timeouts, 5xx); a decline is a result, not an error. */
export class TransientPaymentError extends Error {
  override name = 'TransientPaymentError';
}

/** The payment service provider. Built in: SimulatedPaymentProvider (adapters/). */
export abstract class PaymentProvider {
  abstract charge(req: ChargeRequest): Promise<ChargeResult>;
}
