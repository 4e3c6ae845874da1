import { createHash } from 'node:crypto';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { ChargeRequest, ChargeResult, PaymentProvider, TransientPaymentError, VoidResult } from '../ports/payment-provider.port';

export interface SimulatedPaymentOptions {
  /** Added to every charge, after the charge is recorded (the answer is what is slow). */
  latencyMs: number;
  /** Fraction (0..1) of charges declined at random, besides the scripted methods below. */
  declineRate: number;
}

/** The provider's own record of one payment, as its dashboard would show it. */
export interface SimulatedPayment {
  orderId: string;
  amountCents: number;
  status: 'captured' | 'declined' | 'pending' | 'refunded' | 'voided';
  reference?: string;
  reason?: string;
}

/**
 * A payment provider for the embedded profile, tests and benchmarks. Scripted by payment method:
 * `decline` is always declined, `flaky` fails transiently on the first try of each order
 * (so retries are exercised), `error` always fails transiently, `async` answers pending (the
 * outcome is then delivered by webhook); anything else is approved unless `declineRate` says
 * otherwise.
 *
 * Its ledger lives in the key/value store under `<prefix>:<idempotencyKey>`, outside the app
 * process like a real provider's: a charge is recorded first and answered after `latencyMs`, so
 * an app killed meanwhile has charged the card without knowing it, and the crash test can check
 * afterwards that no captured payment lacks its tickets. Charges are idempotent by key (SET NX).
 */
/** Long enough for any audit; bounded so benchmark runs do not pile up in Redis. */
const LEDGER_TTL_MS = 7 * 86_400_000;

export class SimulatedPaymentProvider extends PaymentProvider {
  private readonly tries = new Map<string, number>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly prefix: string,
    private readonly options: SimulatedPaymentOptions = { latencyMs: 0, declineRate: 0 },
  ) {
    super();
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    const key = `${this.prefix}:${req.idempotencyKey}`;
    let record = await this.read(key);
    if (!record) {
      const tries = (this.tries.get(req.idempotencyKey) ?? 0) + 1;
      this.tries.set(req.idempotencyKey, tries);
      if (req.paymentMethod === 'error') throw new TransientPaymentError('simulated provider outage');
      if (req.paymentMethod === 'flaky' && tries === 1) throw new TransientPaymentError('simulated timeout');
      this.tries.delete(req.idempotencyKey);
      const fresh: SimulatedPayment = { orderId: req.orderId, amountCents: req.amountCents, status: 'captured' };
      if (req.paymentMethod === 'async') fresh.status = 'pending';
      else if (req.paymentMethod === 'decline' || Math.random() < this.options.declineRate) {
        fresh.status = 'declined';
        fresh.reason = 'card_declined';
      }
      fresh.reference = `sim_${createHash('sha256').update(req.idempotencyKey).digest('hex').slice(0, 16)}`;
      // SET NX: of two racing tries (or a try racing a void) exactly one record wins.
      if (await this.kv.set(key, JSON.stringify(fresh), { onlyIfAbsent: true, ttlMs: LEDGER_TTL_MS })) record = fresh;
      else record = (await this.read(key))!;
    }
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    switch (record.status) {
      case 'captured':
        return { status: 'approved', reference: record.reference! };
      case 'pending':
        return { status: 'pending', reference: record.reference! };
      case 'declined':
        return { status: 'declined', reason: record.reason ?? 'card_declined' };
      default:
        return { status: 'declined', reason: 'payment_voided' };
    }
  }

  async void(idempotencyKey: string, orderId: string): Promise<VoidResult> {
    const key = `${this.prefix}:${idempotencyKey}`;
    const fence: SimulatedPayment = { orderId, amountCents: 0, status: 'voided' };
    if (await this.kv.set(key, JSON.stringify(fence), { onlyIfAbsent: true, ttlMs: LEDGER_TTL_MS })) return 'voided';
    const record = (await this.read(key))!;
    if (record.status === 'captured' || record.status === 'refunded') {
      // Only a void moves a record once it exists, and voids of one key are idempotent.
      await this.kv.set(key, JSON.stringify({ ...record, status: 'refunded' }), { ttlMs: LEDGER_TTL_MS });
      return 'refunded';
    }
    if (record.status === 'pending') await this.kv.set(key, JSON.stringify({ ...record, status: 'voided' }), { ttlMs: LEDGER_TTL_MS });
    return 'voided';
  }

  private async read(key: string): Promise<SimulatedPayment | undefined> {
    const raw = await this.kv.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as SimulatedPayment);
  }
}
