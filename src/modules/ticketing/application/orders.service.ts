import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { topicName } from '../../../platform/messaging/topics';
import { rowsOf } from '../../../platform/database/rows-of';
import { Outbox } from '../../../platform/outbox/outbox';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { OrderEvent, OrderState, paymentDeadline, transition } from '../domain';
import { PaymentProvider } from '../ports/payment-provider.port';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { HOLD_QUEUE, PAYMENT_QUEUE, TicketingService } from '../ticketing.service';
import { CheckoutInput, OrderView } from '../ticketing.types';

/** Delayed jobs that expire an order at its payment deadline (job id `deadline-<orderId>`). */
export const ORDER_QUEUE = 'ticketing-order-deadlines';
export const ORDERS_TOPIC = 'ticketing.orders';

interface OrderRow {
  id: string;
  hold_id: string;
  event_id: string;
  user_id: string;
  status: OrderState;
  amount_cents: string;
  payment_method: string;
  failure_reason: string | null;
  payment_ref: string | null;
  expires_at_ms: string;
  void_due: boolean;
  version: number;
}


const money = (c: number | string) => Number(c) / 100;
const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

/**
 * Orders: checkout, payment, and the order state machine (domain/order-state.ts) applied to SQL.
 * Every transition runs in one transaction on the locked order row and writes, in that same
 * transaction, the event announcing it to the outbox: a state change and its event commit
 * together or not at all. Effects outside SQL (hot inventory, voiding a payment at the provider)
 * follow the commit and are repaired by the reconcilers if a crash cuts them off.
 */
@Injectable()
export class TicketingOrders {
  private readonly log = new Logger('ticketing-orders');

  constructor(
    private readonly ds: DataSource,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: AppConfig,
    private readonly payments: PaymentProvider,
    private readonly inventory: TicketingService,
    private readonly outbox: Outbox,
  ) {}

  // ---------------------------------------------------------------- checkout

  async checkout(holdId: string, input: CheckoutInput, idempotencyKey: string | undefined): Promise<{ orderId: string; holdId: string; status: 'PENDING' }> {
    // The order id is the key's intent: a retry that takes over a crashed attempt's key (after
    // STALE_IN_FLIGHT_MS) checks out under the same id and finds that order if it committed.
    return this.inventory.idempotent('ticketing:checkout', idempotencyKey, { holdId, ...input }, this.ids.next(), async (orderId) => {
      const now = this.clock.now();
      const deadline = await this.ds.transaction(async (m) => {
        const rows: { user_id: string; event_id: string; status: string; expires_at_ms: string; amount_cents: string }[] = await m.query(
          `SELECT * FROM ticketing_holds WHERE id = $1 FOR UPDATE`,
          [holdId],
        );
        if (rows.length === 0) throw new TicketingError('not_found', C.HoldNotFound, `hold ${holdId} not found`);
        const prior: { status: OrderState; expires_at_ms: string }[] = await m.query(
          `SELECT status, expires_at_ms FROM ticketing_orders WHERE id = $1`,
          [orderId],
        );
        // Committed by the attempt whose key was taken over (read under the hold's lock, so this also
        // sees one that was still committing): never a second order. The jobs below are keyed by the
        // order id, so re-adding them for a PENDING order cannot charge twice.
        if (prior.length > 0) return prior[0].status === 'PENDING' ? Number(prior[0].expires_at_ms) : null;
        const h = rows[0];
        if (input.userId !== undefined && input.userId !== h.user_id) {
          throw new TicketingError('forbidden', C.HoldNotOwned, 'the hold belongs to another user');
        }
        if (h.status === 'EXPIRED' || (h.status === 'ACTIVE' && Number(h.expires_at_ms) <= now)) {
          throw new TicketingError('conflict', C.HoldExpired, `hold expired at ${iso(h.expires_at_ms)}`);
        }
        if (h.status !== 'ACTIVE') throw new TicketingError('conflict', C.HoldNotActive, `hold is ${h.status}`, { holdStatus: h.status });
        const due = paymentDeadline(Number(h.expires_at_ms), now, this.config.TICKETING_PAYMENT_WINDOW_SECONDS * 1000);
        await m.query(
          `INSERT INTO ticketing_orders (id, hold_id, event_id, user_id, amount_cents, payment_method, status, created_at_ms, updated_at_ms, expires_at_ms)
           VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $7, $8)`,
          [orderId, holdId, h.event_id, h.user_id, h.amount_cents, input.paymentMethod, now, due],
        );
        await m.query(`UPDATE ticketing_holds SET status = 'CHECKOUT' WHERE id = $1`, [holdId]);
        await this.announce(m, orderId, now);
        return due;
      });
      this.outbox.poke();
      if (deadline === null) return { orderId, holdId, status: 'PENDING' as const };
      // Lost if the process dies right here: the reconciler then expires or re-charges the order.
      await this.queue.remove(HOLD_QUEUE, `expire-${holdId}`).catch(() => false);
      await this.queue.add(ORDER_QUEUE, 'deadline', { orderId }, { jobId: `deadline-${orderId}`, delayMs: Math.max(0, deadline - now) });
      await this.queue.add(PAYMENT_QUEUE, 'charge', { orderId }, { jobId: `pay-${orderId}`, attempts: 3, backoffMs: 100 });
      return { orderId, holdId, status: 'PENDING' as const };
    });
  }

  // ---------------------------------------------------------------- payment

  /** Payment job: a decline fails the order; a transient error is thrown so the queue retries. */
  async processPayment(orderId: string): Promise<void> {
    const rows: OrderRow[] = await this.ds.query(`SELECT * FROM ticketing_orders WHERE id = $1`, [orderId]);
    const o = rows[0];
    if (!o || o.status !== 'PENDING') return;
    if (this.clock.now() >= Number(o.expires_at_ms)) {
      // Too late to charge: the seats are due back on sale.
      await this.expireOrder(orderId);
      return;
    }
    const result = await this.payments.charge({
      orderId,
      amountCents: Number(o.amount_cents),
      paymentMethod: o.payment_method,
      idempotencyKey: orderId,
    });
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
    const done = await this.ds.transaction(async (m) => {
      const rows: OrderRow[] = await m.query(`SELECT * FROM ticketing_orders WHERE id = $1 FOR UPDATE`, [orderId]);
      const o = rows[0];
      if (!o) return undefined;
      const t = transition(
        { state: o.status, expiresAt: Number(o.expires_at_ms), failureReason: o.failure_reason, paymentRef: o.payment_ref },
        event,
      );
      const voidDue = t.effects.some((e) => e.type === 'VOID_PAYMENT');
      if (!t.changed) {
        if (voidDue) await m.query(`UPDATE ticketing_orders SET void_due = true WHERE id = $1`, [orderId]);
        return { o, changed: false, voidDue, freed: [] as string[] };
      }
      let freed: string[] = [];
      for (const effect of t.effects) {
        if (effect.type === 'MARK_SOLD') await this.sell(m, o);
        if (effect.type === 'RELEASE_SEATS') {
          await m.query(`UPDATE ticketing_holds SET status = $2 WHERE id = $1`, [o.hold_id, t.order.state === 'EXPIRED' ? 'EXPIRED' : 'RELEASED']);
          freed = rowsOf<{ seat_id: string }>(
            await m.query(
              `UPDATE ticketing_seats SET status = 'AVAILABLE', hold_id = NULL WHERE hold_id = $1 AND status = 'HELD' RETURNING seat_id`,
              [o.hold_id],
            ),
          ).map((r) => r.seat_id);
        }
      }
      await m.query(
        `UPDATE ticketing_orders SET status = $2, failure_reason = $3, payment_ref = $4, updated_at_ms = $5,
                version = version + 1, void_due = void_due OR $6 WHERE id = $1`,
        [orderId, t.order.state, t.order.failureReason ?? null, t.order.paymentRef ?? null, now, voidDue],
      );
      await this.announce(m, orderId, now);
      return { o, changed: true, voidDue, freed };
    });
    if (!done) return false;
    if (done.changed) this.outbox.poke();
    if (done.freed.length > 0) await this.inventory.giveBack(done.o.event_id, done.o.user_id, done.freed);
    if (done.voidDue) await this.settleVoid(orderId).catch((e: unknown) => this.log.warn(`void of order ${orderId} failed: ${(e as Error).message}`));
    return done.changed;
  }

  /** Seats HELD by the order's hold become SOLD with one ticket each; all of them or nothing. */
  private async sell(m: EntityManager, o: OrderRow): Promise<void> {
    const sold = rowsOf<{ seat_id: string }>(
      await m.query(`UPDATE ticketing_seats SET status = 'SOLD' WHERE hold_id = $1 AND status = 'HELD' RETURNING seat_id`, [o.hold_id]),
    ).map((r) => r.seat_id);
    const [{ quantity }] = await m.query(`SELECT quantity FROM ticketing_holds WHERE id = $1`, [o.hold_id]);
    // Never a confirmed order short of tickets: rolled back, the order stays PENDING and expires.
    if (sold.length !== Number(quantity)) throw new Error(`order ${o.id}: ${sold.length} of ${quantity} seats still held`);
    const codes = sold.map(() => randomBytes(9).toString('base64url').toUpperCase());
    await m.query(`INSERT INTO ticketing_tickets (code, order_id, event_id, seat_id) SELECT unnest($1::text[]), $2, $3, unnest($4::text[])`, [
      codes,
      o.id,
      o.event_id,
      sold,
    ]);
    await m.query(`UPDATE ticketing_holds SET status = 'CONVERTED' WHERE id = $1`, [o.hold_id]);
  }

  /**
   * Writes the order's current state (read inside the transaction) to the outbox as
   * `order.<status>`, keyed by order id. The event id is a fresh UUIDv7 stored with the row, so
   * every republication of this state change carries the same id.
   */
  private async announce(m: EntityManager, orderId: string, now: number): Promise<void> {
    const [view] = await this.orders(`o.id = $1`, [orderId], m);
    const id = this.ids.next();
    const type = view.status === 'PENDING' ? 'order.created' : `order.${view.status.toLowerCase()}`;
    const value = JSON.stringify({ id, type, ...view, occurredAt: iso(now) });
    await this.outbox.append(m, { id, topic: topicName(this.config, ORDERS_TOPIC), key: orderId, value, headers: { type, 'event-id': id } });
  }

  /** Voids the order's payment at the provider, then clears the flag; repeated until it sticks. */
  async settleVoid(orderId: string): Promise<void> {
    const outcome = await this.payments.void(orderId, orderId);
    await this.ds.query(`UPDATE ticketing_orders SET void_due = false WHERE id = $1`, [orderId]);
    if (outcome === 'refunded') this.log.log(`order ${orderId}: captured payment refunded`);
  }

  // ---------------------------------------------------------------- reads

  async getOrder(orderId: string): Promise<OrderView> {
    const views = await this.orders(`o.id = $1`, [orderId]);
    if (views.length === 0) throw new TicketingError('not_found', C.OrderNotFound, `order ${orderId} not found`);
    return views[0];
  }

  async userOrders(userId: string): Promise<{ userId: string; orders: OrderView[] }> {
    return { userId, orders: await this.orders(`o.user_id = $1`, [userId]) };
  }

  private async orders(where: string, params: unknown[], m: EntityManager | DataSource = this.ds): Promise<OrderView[]> {
    const rows: Record<string, string>[] = await m.query(
      `SELECT o.*, COALESCE(json_agg(json_build_object('code', t.code, 'seatId', t.seat_id) ORDER BY t.seat_id)
                FILTER (WHERE t.code IS NOT NULL), '[]') AS tickets
       FROM ticketing_orders o LEFT JOIN ticketing_tickets t ON t.order_id = o.id
       WHERE ${where} GROUP BY o.id ORDER BY o.created_at_ms DESC LIMIT 200`,
      params,
    );
    return rows.map((o) => ({
      orderId: o.id,
      holdId: o.hold_id,
      eventId: o.event_id,
      userId: o.user_id,
      status: o.status as OrderView['status'],
      amount: money(o.amount_cents),
      paymentMethod: o.payment_method,
      failureReason: o.failure_reason ?? null,
      tickets: (typeof o.tickets === 'string' ? JSON.parse(o.tickets) : o.tickets) as OrderView['tickets'],
      version: Number(o.version),
      expiresAt: iso(o.expires_at_ms),
      createdAt: iso(o.created_at_ms),
    }));
  }

  // ---------------------------------------------------------------- reconciliation (scheduler role)

  /** Expires PENDING orders of this namespace past their deadline (the deadline job's safety net). */
  async reconcileExpiredOrders(limit = 500): Promise<number> {
    const due: { id: string }[] = await this.ds.query(
      `SELECT o.id FROM ticketing_orders o JOIN ticketing_events e ON e.id = o.event_id
       WHERE o.status = 'PENDING' AND o.expires_at_ms <= $1 AND e.namespace = $2 ORDER BY o.expires_at_ms LIMIT $3`,
      [this.clock.now(), this.config.NAMESPACE, limit],
    );
    let n = 0;
    for (const o of due) if (await this.expireOrder(o.id)) n++;
    return n;
  }

  /**
   * Re-enqueues payments of orders still PENDING after `staleMs` (a lost job, a crashed worker).
   * Safe to repeat: the job re-reads the order and the provider deduplicates by order id.
   */
  async requeueStalePayments(staleMs = 60_000, limit = 500): Promise<number> {
    const now = this.clock.now();
    const stale: { id: string }[] = await this.ds.query(
      `SELECT o.id FROM ticketing_orders o JOIN ticketing_events e ON e.id = o.event_id
       WHERE o.status = 'PENDING' AND o.updated_at_ms <= $1 AND e.namespace = $2 ORDER BY o.updated_at_ms LIMIT $3`,
      [now - staleMs, this.config.NAMESPACE, limit],
    );
    const bucket = Math.floor(now / 60_000);
    for (const o of stale) {
      await this.queue.add(PAYMENT_QUEUE, 'charge', { orderId: o.id }, { jobId: `pay-${o.id}-r${bucket}`, attempts: 3, backoffMs: 100 });
    }
    return stale.length;
  }

  /** Retries payment voids that a crash or a provider error left undone. */
  async settleDueVoids(limit = 500): Promise<number> {
    const due: { id: string }[] = await this.ds.query(
      `SELECT o.id FROM ticketing_orders o JOIN ticketing_events e ON e.id = o.event_id
       WHERE o.void_due AND e.namespace = $1 ORDER BY o.updated_at_ms LIMIT $2`,
      [this.config.NAMESPACE, limit],
    );
    for (const o of due) await this.settleVoid(o.id);
    return due.length;
  }
}
