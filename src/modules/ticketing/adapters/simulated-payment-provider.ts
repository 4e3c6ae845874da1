import { createHash } from 'node:crypto';
import { ChargeRequest, ChargeResult, PaymentProvider, TransientPaymentError } from '../ports/payment-provider.port';

export interface SimulatedPaymentOptions {
  /** Added to every charge. */
  latencyMs: number;
  /** Fraction (0..1) of charges declined at random, besides the scripted methods below. */
  declineRate: number;
}

/**
 * A payment provider for the embedded profile and tests. Scripted by payment method:
 * `decline` is always declined, `flaky` fails transiently on the first try of each order
 * (so retries are exercised), `error` always fails transiently, `async` answers pending (the
 * outcome is then delivered by webhook); anything else is approved
 * unless `declineRate` says otherwise. Charges are idempotent by idempotencyKey.
 */
export class SimulatedPaymentProvider extends PaymentProvider {
  private readonly seen = new Map<string, ChargeResult>();
  private readonly tries = new Map<string, number>();

  constructor(private readonly options: SimulatedPaymentOptions = { latencyMs: 0, declineRate: 0 }) {
    super();
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    const done = this.seen.get(req.idempotencyKey);
    if (done) return done;
    const tries = (this.tries.get(req.idempotencyKey) ?? 0) + 1;
    this.tries.set(req.idempotencyKey, tries);
    if (req.paymentMethod === 'error') throw new TransientPaymentError('simulated provider outage');
    if (req.paymentMethod === 'async') return { status: 'pending', reference: `sim_async_${req.orderId}` };
    if (req.paymentMethod === 'flaky' && tries === 1) throw new TransientPaymentError('simulated timeout');
    let result: ChargeResult;
    if (req.paymentMethod === 'decline' || Math.random() < this.options.declineRate) {
      result = { status: 'declined', reason: 'card_declined' };
    } else {
      const ref = createHash('sha256').update(req.idempotencyKey).digest('hex').slice(0, 16);
      result = { status: 'approved', reference: `sim_${ref}` };
    }
    this.seen.set(req.idempotencyKey, result);
    this.tries.delete(req.idempotencyKey);
    return result;
  }
}
