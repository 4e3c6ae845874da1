import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { IdempotencyStore, STALE_IN_FLIGHT_MS } from '../../../platform/idempotency/idempotency-store';
import { Outbox } from '../../../platform/outbox/outbox';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { iso, OrderEvent, paymentDeadline, transition } from '../domain';
import { OrderRepository } from '../ports/order-repository.port';
import { PaymentProvider } from '../ports/payment-provider.port';
import { TicketingConfig } from '../ticketing.config';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { CheckoutInput, OrderView } from '../ticketing.types';
import { HoldsService, HOLD_QUEUE } from './holds.service';

/** Delayed jobs that expire an order at its payment deadline (job id `deadline-<orderId>`). */
export const ORDER_QUEUE = 'ticketing-order-deadlines';
export const PAYMENT_QUEUE = 'ticketing-payments';

/**
 * Orders: checkout, payment, and the order state machine (domain/order-state.ts) applied to SQL.
 * Every transition runs in one transaction on the locked order row and writes, in that same
 * transaction, the event announcing it to the outbox: a state change and its event commit
 * together or not at all. Effects outside SQL (hot inventory, voiding a payment at the provider)
 * follow the commit and are repaired by the reconcilers if a crash cuts them off.
 */
@Injectable()
export class OrdersService {
  private readonly log = new Logger('ticketing-orders');

  constructor(
    private readonly orders: OrderRepository,
    private readonly idempotency: IdempotencyStore,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: TicketingConfig,
    private readonly payments: PaymentProvider,
    private readonly holds: HoldsService,
    private readonly outbox: Outbox,
  ) {}

  async checkout(holdId: string, input: CheckoutInput, idempotencyKey: string | undefined): Promise<{ orderId: string; holdId: string; status: 'PENDING' }> {
    // The order id is the key's intent: a retry that takes over a crashed attempt's key (after
    // STALE_IN_FLIGHT_MS) checks out under the same id and finds that order if it committed.
    const request = { holdId, ...input };
    return this.idempotency.run({ scope: 'ticketing:checkout', key: idempotencyKey, request, intent: this.ids.next(), staleAfterMs: STALE_IN_FLIGHT_MS, run: async (orderId) => {
      const now = this.clock.now();
      const deadline = await this.orders.transaction(async (tx) => {
        const h = await tx.lockHold(holdId);
        if (!h) throw new TicketingError('not_found', C.HoldNotFound, `hold ${holdId} not found`);
        // Committed by the attempt whose key was taken over (read under the hold's lock, so this also
        // sees one that was still committing): never a second order. The jobs below are keyed by the
        // order id, so re-adding them for a PENDING order cannot charge twice.
        const prior = await tx.findOrder(orderId);
        if (prior) return prior.status === 'PENDING' ? prior.expiresAtMs : null;
        if (input.userId !== undefined && input.userId !== h.userId) throw new TicketingError('forbidden', C.HoldNotOwned, 'the hold belongs to another user');
        if (h.status === 'EXPIRED' || (h.status === 'ACTIVE' && h.expiresAtMs <= now)) throw new TicketingError('conflict', C.HoldExpired, `hold expired at ${iso(h.expiresAtMs)}`);
        if (h.status !== 'ACTIVE') throw new TicketingError('conflict', C.HoldNotActive, `hold is ${h.status}`, { holdStatus: h.status });
        const due = paymentDeadline(h.expiresAtMs, now, this.config.TICKETING_PAYMENT_WINDOW_SECONDS * 1000);
        await tx.insertOrder({ id: orderId, holdId, eventId: h.eventId, userId: h.userId, amountCents: h.amountCents, paymentMethod: input.paymentMethod, expiresAtMs: due }, now);
        await tx.setHoldStatus(holdId, 'CHECKOUT');
        await tx.announce(orderId, now);
        return due;
      });
      this.outbox.poke();
      if (deadline === null) return { orderId, holdId, status: 'PENDING' as const };
      // Lost if the process dies right here: the reconciler then expires or re-charges the order.
      await this.queue.remove(HOLD_QUEUE, `expire-${holdId}`).catch(() => false);
      await this.queue.add(ORDER_QUEUE, 'deadline', { orderId }, { jobId: `deadline-${orderId}`, delayMs: Math.max(0, deadline - now) });
      await this.queue.add(PAYMENT_QUEUE, 'charge', { orderId }, { jobId: `pay-${orderId}`, attempts: 3, backoffMs: 100 });
      return { orderId, holdId, status: 'PENDING' as const };
    } });
  }

  /** Payment job: a decline fails the order; a transient error is thrown so the queue retries. */
  async processPayment(orderId: string): Promise<void> {
    const o = await this.orders.find(orderId);
    if (!o || o.status !== 'PENDING') return;
    if (this.clock.now() >= o.expiresAtMs) {
      // Too late to charge: the seats are due back on sale.
      await this.expireOrder(orderId);
      return;
    }
    const result = await this.payments.charge({ orderId, amountCents: o.amountCents, paymentMethod: o.paymentMethod, idempotencyKey: orderId });
    if (result.status === 'approved') await this.confirmOrder(orderId, result.reference);
    else if (result.status === 'declined') await this.failOrder(orderId, result.reason);
    // pending: the provider reports the outcome on the webhook.
  }

  /** Returns whether the order changed state. */
  confirmOrder(orderId: string, paymentRef: string): Promise<boolean> {
    return this.apply(orderId, { type: 'PAYMENT_SUCCEEDED', atMs: this.clock.now(), paymentRef });
  }

  failOrder(orderId: string, reason: string): Promise<boolean> {
    return this.apply(orderId, { type: 'PAYMENT_FAILED', atMs: this.clock.now(), reason });
  }

  /** Deadline job and reconciler: expires the order only if it is still PENDING and due. */
  expireOrder(orderId: string): Promise<boolean> {
    return this.apply(orderId, { type: 'DEADLINE_PASSED', atMs: this.clock.now() });
  }

  /**
   * Applies one event of the order state machine: in one transaction the order row is locked,
   * the transition decided, its SQL effects made and its outbox event written. The hot inventory
   * and the payment void follow the commit.
   */
  private async apply(orderId: string, event: OrderEvent): Promise<boolean> {
    const now = this.clock.now();
    const done = await this.orders.transaction(async (tx) => {
      const o = await tx.lockOrder(orderId);
      if (!o) return undefined;
      const t = transition({ state: o.status, expiresAt: o.expiresAtMs, failureReason: o.failureReason, paymentRef: o.paymentRef }, event);
      const voidDue = t.effects.some((e) => e.type === 'VOID_PAYMENT');
      if (!t.changed) {
        if (voidDue) await tx.setVoidDue(orderId);
        return { o, changed: false, voidDue, freed: [] as string[] };
      }
      let freed: string[] = [];
      for (const effect of t.effects) {
        if (effect.type === 'MARK_SOLD') await tx.sell(o, () => randomBytes(9).toString('base64url').toUpperCase());
        if (effect.type === 'RELEASE_SEATS') {
          await tx.setHoldStatus(o.holdId, t.order.state === 'EXPIRED' ? 'EXPIRED' : 'RELEASED');
          freed = await tx.freeSeats(o.holdId);
        }
      }
      await tx.update(orderId, { status: t.order.state, failureReason: t.order.failureReason ?? null, paymentRef: t.order.paymentRef ?? null, voidDue }, now);
      await tx.announce(orderId, now);
      return { o, changed: true, voidDue, freed };
    });
    if (!done) return false;
    if (done.changed) this.outbox.poke();
    if (done.freed.length > 0) await this.holds.giveBack(done.o.eventId, done.o.userId, done.freed);
    if (done.voidDue) await this.settleVoid(orderId).catch((e: unknown) => this.log.warn(`void of order ${orderId} failed: ${(e as Error).message}`));
    return done.changed;
  }

  /** Voids the order's payment at the provider, then clears the flag; repeated until it sticks. */
  async settleVoid(orderId: string): Promise<void> {
    const outcome = await this.payments.void(orderId, orderId);
    await this.orders.clearVoidDue(orderId);
    if (outcome === 'refunded') this.log.log(`order ${orderId}: captured payment refunded`);
  }

  async getOrder(orderId: string): Promise<OrderView> {
    const [view] = await this.orders.views({ orderId });
    if (!view) throw new TicketingError('not_found', C.OrderNotFound, `order ${orderId} not found`);
    return view;
  }

  async userOrders(userId: string): Promise<{ userId: string; orders: OrderView[] }> {
    return { userId, orders: await this.orders.views({ userId }) };
  }

  /** Expires PENDING orders of this namespace past their deadline (the deadline job's safety net). */
  async reconcileExpiredOrders(limit = 500): Promise<number> {
    let n = 0;
    for (const id of await this.orders.overdue(this.clock.now(), limit)) if (await this.expireOrder(id)) n++;
    return n;
  }

  /**
   * Re-enqueues payments of orders still PENDING after `staleMs` (a lost job, a crashed worker).
   * Safe to repeat: the job re-reads the order and the provider deduplicates by order id.
   */
  async requeueStalePayments(staleMs = 60_000, limit = 500): Promise<number> {
    const now = this.clock.now();
    const stale = await this.orders.stalePending(now - staleMs, limit);
    const bucket = Math.floor(now / 60_000);
    for (const id of stale) await this.queue.add(PAYMENT_QUEUE, 'charge', { orderId: id }, { jobId: `pay-${id}-r${bucket}`, attempts: 3, backoffMs: 100 });
    return stale.length;
  }

  /** Retries payment voids that a crash or a provider error left undone. */
  async settleDueVoids(limit = 500): Promise<number> {
    const due = await this.orders.voidsDue(limit);
    for (const id of due) await this.settleVoid(id);
    return due.length;
  }
}
