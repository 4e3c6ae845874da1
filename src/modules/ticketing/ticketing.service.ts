import { Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../platform/clock/clock';
import { IdGenerator } from '../../platform/ids/id-generator';
import { KeyValueStore } from '../../platform/kv/key-value-store.port';
import { EventBus } from '../../platform/messaging/event-bus.port';
import { topicName } from '../../platform/messaging/topics';
import { JobQueue } from '../../platform/queue/job-queue.port';
import { RELEASE, TRY_HOLD } from './adapters/inventory-scripts';
import { canonicalJson } from './domain';
import { PaymentProvider } from './ports/payment-provider.port';
import { TicketingCode as C, TicketingError } from './ticketing.errors';
import { CheckoutInput, CreateEventInput, HoldInput, HoldView, OrderView } from './ticketing.types';

export const HOLD_QUEUE = 'ticketing-holds';
export const PAYMENT_QUEUE = 'ticketing-payments';
const MAX_CAPACITY = 100_000;
const IDEMPOTENCY_TTL = '24 hours';

interface EventRow {
  id: string;
  name: string;
  kind: 'SEATED' | 'GA';
  starts_at_ms: string;
  sales_open_at_ms: string | null;
  hold_ttl_seconds: number;
  max_per_user: number;
  capacity: number;
  sections: unknown;
}

interface HoldRow {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  amount_cents: string;
  status: string;
  expires_at_ms: string;
}

/** TypeORM's postgres driver answers UPDATE/DELETE with [rows, count]; everything else with rows. */
function rowsOf<T>(res: unknown): T[] {
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return res as T[];
}

const cents = (price: number) => Math.round(price * 100);
const money = (c: number | string) => Number(c) / 100;
const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

/**
 * Flash-sale booking that never oversells. A hold is decided first in the key/value store by one
 * atomic script over the event's hot inventory (free places, per-user counts), so a burst of
 * requests is settled without touching SQL for the losers; the winners are then written to SQL,
 * whose guarded status transitions and primary key on (event, seat) remain the source of truth.
 */
@Injectable()
export class TicketingService {
  private readonly log = new Logger('ticketing');
  private readonly events = new Map<string, EventRow>();

  constructor(
    private readonly ds: DataSource,
    private readonly kv: KeyValueStore,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: AppConfig,
    private readonly payments: PaymentProvider,
    private readonly bus: EventBus,
  ) {}

  // ---------------------------------------------------------------- events

  async createEvent(input: CreateEventInput): Promise<{ id: string; capacity: number }> {
    const startsAt = Date.parse(input.startsAt);
    if (Number.isNaN(startsAt)) throw invalid('startsAt', 'startsAt must be an ISO 8601 date-time');
    const salesOpenAt = input.salesOpenAt === undefined ? null : Date.parse(input.salesOpenAt);
    if (Number.isNaN(salesOpenAt)) throw invalid('salesOpenAt', 'salesOpenAt must be an ISO 8601 date-time');
    if (salesOpenAt !== null && salesOpenAt > startsAt) throw invalid('salesOpenAt', 'salesOpenAt must not be after startsAt');
    const hasSections = input.sections !== undefined;
    const hasGa = input.generalAdmission !== undefined;
    if (hasSections === hasGa) throw invalid('sections', 'give exactly one of sections or generalAdmission');
    const sections = input.sections ?? [];
    if (hasSections && sections.length === 0) throw invalid('sections', 'sections must not be empty');
    const names = new Set(sections.map((s) => s.name));
    if (names.size !== sections.length) throw invalid('sections', 'section names must be unique');
    const capacity = hasGa ? input.generalAdmission!.capacity : sections.reduce((n, s) => n + s.rows * s.seatsPerRow, 0);
    if (!(capacity > 0)) throw invalid('capacity', 'capacity must be positive');
    if (capacity > MAX_CAPACITY) throw invalid('capacity', `capacity must be at most ${MAX_CAPACITY}`);

    const id = this.ids.next();
    const kind = hasGa ? 'GA' : 'SEATED';
    const layout = hasGa ? { generalAdmission: input.generalAdmission } : { sections };
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO ticketing_events (id, name, kind, starts_at_ms, sales_open_at_ms, hold_ttl_seconds, max_per_user, capacity, sections, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, input.name, kind, startsAt, salesOpenAt, input.holdTtlSeconds ?? 300, input.maxPerUser ?? 4, capacity, JSON.stringify(layout), this.clock.now()],
      );
      if (hasGa) {
        await m.query(
          `INSERT INTO ticketing_seats (event_id, seat_id, section, price_cents)
           SELECT $1, 'GA-GA-' || g, 'GA', $2 FROM generate_series(1, $3::int) g`,
          [id, cents(input.generalAdmission!.price), capacity],
        );
      }
      for (const s of sections) {
        await m.query(
          `INSERT INTO ticketing_seats (event_id, seat_id, section, price_cents)
           SELECT $1, $2 || '-' || r || '-' || n, $2, $3 FROM generate_series(1, $4::int) r, generate_series(1, $5::int) n`,
          [id, s.name, cents(s.price), s.rows, s.seatsPerRow],
        );
      }
    });
    await this.rebuildInventory(id);
    return { id, capacity };
  }

  async getEvent(eventId: string): Promise<Record<string, unknown>> {
    const e = await this.eventRow(eventId);
    return {
      id: e.id,
      name: e.name,
      kind: e.kind,
      startsAt: iso(e.starts_at_ms),
      salesOpenAt: e.sales_open_at_ms === null ? null : iso(e.sales_open_at_ms),
      holdTtlSeconds: e.hold_ttl_seconds,
      maxPerUser: e.max_per_user,
      capacity: e.capacity,
      ...(e.sections as object),
    };
  }

  async availability(eventId: string, withSeats: boolean): Promise<Record<string, unknown>> {
    const e = await this.eventRow(eventId);
    const rows: { section: string; status: string; n: string }[] = await this.ds.query(
      `SELECT section, status, count(*) AS n FROM ticketing_seats WHERE event_id = $1 GROUP BY section, status ORDER BY section`,
      [eventId],
    );
    const sections = new Map<string, { name: string; capacity: number; available: number; held: number; sold: number }>();
    const total = { available: 0, held: 0, sold: 0 };
    for (const r of rows) {
      const s = sections.get(r.section) ?? { name: r.section, capacity: 0, available: 0, held: 0, sold: 0 };
      const n = Number(r.n);
      const field = r.status === 'AVAILABLE' ? 'available' : r.status === 'HELD' ? 'held' : 'sold';
      s[field] += n;
      s.capacity += n;
      total[field] += n;
      sections.set(r.section, s);
    }
    const out: Record<string, unknown> = { eventId, capacity: e.capacity, ...total, sections: [...sections.values()] };
    if (withSeats) {
      const free: { seat_id: string }[] = await this.ds.query(
        `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE' ORDER BY section, seat_id`,
        [eventId],
      );
      out.seats = free.map((r) => r.seat_id);
    }
    return out;
  }

  // ---------------------------------------------------------------- holds

  async hold(eventId: string, input: HoldInput, idempotencyKey: string | undefined): Promise<HoldView> {
    const key = requireKey(idempotencyKey);
    return this.idempotent('ticketing:hold', key, { eventId, ...input }, () => this.placeHold(eventId, input));
  }

  private async placeHold(eventId: string, input: HoldInput): Promise<HoldView> {
    const e = await this.eventRow(eventId);
    const now = this.clock.now();
    if (e.sales_open_at_ms !== null && now < Number(e.sales_open_at_ms)) {
      const wait = Math.ceil((Number(e.sales_open_at_ms) - now) / 1000);
      throw new TicketingError('too_early', C.SalesNotOpen, `sales open at ${iso(e.sales_open_at_ms)}`, {
        salesOpenAt: iso(e.sales_open_at_ms),
        retryAfterSeconds: wait,
      });
    }
    let seats: string[] = [];
    let qty: number;
    if (e.kind === 'GA') {
      if (input.seatIds !== undefined) throw invalid('seatIds', 'a general-admission event takes quantity, not seatIds', C.InvalidHold);
      if (input.quantity === undefined) throw invalid('quantity', 'quantity is required for a general-admission event', C.InvalidHold);
      qty = input.quantity;
    } else {
      if (!input.seatIds || input.seatIds.length === 0) throw invalid('seatIds', 'seatIds is required for a seated event', C.InvalidHold);
      seats = [...new Set(input.seatIds)];
      if (seats.length !== input.seatIds.length) throw invalid('seatIds', 'seatIds must not repeat', C.InvalidHold);
      if (input.quantity !== undefined && input.quantity !== seats.length) throw invalid('quantity', 'quantity must equal the number of seatIds', C.InvalidHold);
      qty = seats.length;
    }
    if (qty > e.max_per_user) {
      throw new TicketingError('forbidden', C.PerUserLimit, `at most ${e.max_per_user} per user`, { maxPerUser: e.max_per_user });
    }

    const mode = e.kind === 'GA' ? 'ga' : 'seated';
    const keys = this.keys(eventId);
    const args = [mode, input.userId, e.max_per_user, qty, ...seats];
    let reply = await this.kv.runScript(TRY_HOLD, keys, args);
    if (reply[0] === 'missing') {
      await this.rebuildInventory(eventId);
      reply = await this.kv.runScript(TRY_HOLD, keys, args);
    }
    switch (reply[0]) {
      case 'ok':
        break;
      case 'missing':
        throw new TicketingError('unavailable', C.InventoryBusy, 'inventory is being rebuilt; retry', { retryAfterSeconds: 1 });
      case 'limit':
        throw new TicketingError('forbidden', C.PerUserLimit, `at most ${e.max_per_user} per user; ${reply[1]} already held or bought`, {
          maxPerUser: e.max_per_user,
          alreadyHeld: Number(reply[1]),
        });
      case 'sold_out':
        throw new TicketingError('conflict', C.SoldOut, `sold out: ${reply[1]} left, ${qty} asked`, { available: Number(reply[1]) });
      case 'seat_unavailable': {
        const asked = reply.slice(1);
        const known: { seat_id: string }[] = await this.ds.query(
          `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND seat_id = ANY($2)`,
          [eventId, asked],
        );
        const knownIds = new Set(known.map((r) => r.seat_id));
        const unknown = asked.filter((s) => !knownIds.has(s));
        if (unknown.length > 0) {
          throw new TicketingError('invalid', C.UnknownSeats, `not seats of this event: ${unknown.join(', ')}`, { seatIds: unknown });
        }
        throw new TicketingError('conflict', C.SeatUnavailable, `seats not available: ${asked.join(', ')}`, { seatIds: asked });
      }
      default:
        throw new Error(`unexpected inventory reply ${reply.join(',')}`);
    }

    const holdId = this.ids.next();
    const expiresAt = now + e.hold_ttl_seconds * 1000;
    // One statement, so one round trip: take the places and insert the hold together. The hold is
    // inserted only when every place was taken; otherwise the seats would point at a missing hold,
    // the foreign key fails at the end of the statement, and the whole statement rolls back.
    const pick =
      mode === 'ga'
        ? `seat_id IN (SELECT seat_id FROM ticketing_seats WHERE event_id = $2 AND status = 'AVAILABLE'
                       ORDER BY seat_id LIMIT $4::int FOR UPDATE SKIP LOCKED)`
        : `seat_id = ANY($7::text[]) AND status = 'AVAILABLE'`;
    let taken: { seat_id: string; price_cents: string }[];
    try {
      taken = await this.ds.query(
        `WITH s AS (
           UPDATE ticketing_seats SET status = 'HELD', hold_id = $1 WHERE event_id = $2 AND ${pick}
           RETURNING seat_id, price_cents),
         h AS (
           INSERT INTO ticketing_holds (id, event_id, user_id, quantity, amount_cents, status, expires_at_ms, created_at_ms)
           SELECT $1, $2, $3, $4::int, (SELECT COALESCE(sum(price_cents), 0) FROM s), 'ACTIVE', $5::bigint, $6::bigint
           WHERE (SELECT count(*) FROM s) = $4::int
           RETURNING id)
         SELECT s.seat_id, s.price_cents FROM s, h`,
        mode === 'ga' ? [holdId, eventId, input.userId, qty, expiresAt, now] : [holdId, eventId, input.userId, qty, expiresAt, now, seats],
      );
      if (taken.length !== qty) throw new Error('short');
    } catch (err) {
      await this.kv.runScript(RELEASE, keys, [mode, input.userId, qty, ...seats]);
      if (err instanceof Error && (err.message === 'short' || (err as { code?: string }).code === '23503')) {
        // The hot inventory said yes but SQL says no: SQL is the source of truth.
        throw new TicketingError('conflict', mode === 'ga' ? C.SoldOut : C.SeatUnavailable, 'not enough places available', {
          seatIds: seats,
        });
      }
      throw err;
    }
    await this.queue.add(HOLD_QUEUE, 'expire', { holdId }, { jobId: `expire-${holdId}`, delayMs: e.hold_ttl_seconds * 1000 });
    const seatIds = taken.map((r) => r.seat_id).sort();
    return {
      holdId,
      eventId,
      userId: input.userId,
      seatIds,
      expiresAt: iso(expiresAt),
      amount: money(taken.reduce((n, r) => n + Number(r.price_cents), 0)),
    };
  }

  async getHold(holdId: string): Promise<Record<string, unknown>> {
    const rows: HoldRow[] = await this.ds.query(`SELECT * FROM ticketing_holds WHERE id = $1`, [holdId]);
    if (rows.length === 0) throw notFound(C.HoldNotFound, 'hold', holdId);
    const h = rows[0];
    const seats: { seat_id: string }[] = await this.ds.query(`SELECT seat_id FROM ticketing_seats WHERE hold_id = $1 ORDER BY seat_id`, [holdId]);
    return {
      holdId: h.id,
      eventId: h.event_id,
      userId: h.user_id,
      status: h.status,
      seatIds: seats.map((s) => s.seat_id),
      expiresAt: iso(h.expires_at_ms),
      amount: money(h.amount_cents),
    };
  }

  /** Explicit release by the client: only an ACTIVE hold, only by its owner when userId is given. */
  async releaseHold(holdId: string, userId?: string): Promise<{ holdId: string; status: string }> {
    const released = await this.endHold(holdId, 'RELEASED', (h) => {
      if (userId !== undefined && h.user_id !== userId) throw new TicketingError('forbidden', C.HoldNotOwned, 'the hold belongs to another user');
      if (h.status !== 'ACTIVE') throw new TicketingError('conflict', C.HoldNotActive, `hold is ${h.status}`, { holdStatus: h.status });
      return true;
    });
    if (released) await this.queue.remove(HOLD_QUEUE, `expire-${holdId}`).catch(() => false);
    return { holdId, status: 'RELEASED' };
  }

  /** Expiry (delayed job or reconciler): releases the hold only if it is still ACTIVE and due. */
  async expireHold(holdId: string): Promise<boolean> {
    const now = this.clock.now();
    return this.endHold(holdId, 'EXPIRED', (h) => h.status === 'ACTIVE' && Number(h.expires_at_ms) <= now, true);
  }

  /**
   * Ends a hold in one transaction (hold status, seats back to AVAILABLE), then gives the places
   * back to the hot inventory. `decide` sees the locked row and says whether to go on.
   */
  private async endHold(holdId: string, status: string, decide: (h: HoldRow) => boolean, quietIfMissing = false): Promise<boolean> {
    const done = await this.ds.transaction(async (m) => {
      const rows: HoldRow[] = await m.query(`SELECT * FROM ticketing_holds WHERE id = $1 FOR UPDATE`, [holdId]);
      if (rows.length === 0) {
        if (quietIfMissing) return undefined;
        throw notFound(C.HoldNotFound, 'hold', holdId);
      }
      const h = rows[0];
      if (!decide(h)) return undefined;
      await m.query(`UPDATE ticketing_holds SET status = $2 WHERE id = $1`, [holdId, status]);
      const seats = await this.freeSeats(m, holdId);
      return { h, seats };
    });
    if (!done) return false;
    await this.giveBack(done.h.event_id, done.h.user_id, done.seats);
    return true;
  }

  private async freeSeats(m: EntityManager, holdId: string): Promise<string[]> {
    const res = await m.query(
      `UPDATE ticketing_seats SET status = 'AVAILABLE', hold_id = NULL WHERE hold_id = $1 AND status = 'HELD' RETURNING seat_id`,
      [holdId],
    );
    return rowsOf<{ seat_id: string }>(res).map((r) => r.seat_id);
  }

  private async giveBack(eventId: string, userId: string, seats: string[]): Promise<void> {
    if (seats.length === 0) return;
    const e = await this.eventRow(eventId);
    const mode = e.kind === 'GA' ? 'ga' : 'seated';
    await this.kv.runScript(RELEASE, this.keys(eventId), [mode, userId, seats.length, ...(mode === 'ga' ? [] : seats)]);
  }

  // ---------------------------------------------------------------- orders

  async checkout(holdId: string, input: CheckoutInput, idempotencyKey: string | undefined): Promise<{ orderId: string; holdId: string; status: 'PENDING' }> {
    const key = requireKey(idempotencyKey);
    return this.idempotent('ticketing:checkout', key, { holdId, ...input }, async () => {
      const now = this.clock.now();
      const orderId = this.ids.next();
      await this.ds.transaction(async (m) => {
        const rows: HoldRow[] = await m.query(`SELECT * FROM ticketing_holds WHERE id = $1 FOR UPDATE`, [holdId]);
        if (rows.length === 0) throw notFound(C.HoldNotFound, 'hold', holdId);
        const h = rows[0];
        if (input.userId !== undefined && input.userId !== h.user_id) {
          throw new TicketingError('forbidden', C.HoldNotOwned, 'the hold belongs to another user');
        }
        if (h.status === 'EXPIRED' || (h.status === 'ACTIVE' && Number(h.expires_at_ms) <= now)) {
          throw new TicketingError('conflict', C.HoldExpired, `hold expired at ${iso(h.expires_at_ms)}`);
        }
        if (h.status !== 'ACTIVE') throw new TicketingError('conflict', C.HoldNotActive, `hold is ${h.status}`, { holdStatus: h.status });
        await m.query(
          `INSERT INTO ticketing_orders (id, hold_id, event_id, user_id, amount_cents, payment_method, status, created_at_ms, updated_at_ms)
           VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $7)`,
          [orderId, holdId, h.event_id, h.user_id, h.amount_cents, input.paymentMethod, now],
        );
        await m.query(`UPDATE ticketing_holds SET status = 'CHECKOUT' WHERE id = $1`, [holdId]);
      });
      await this.queue.remove(HOLD_QUEUE, `expire-${holdId}`).catch(() => false);
      await this.queue.add(PAYMENT_QUEUE, 'charge', { orderId }, { jobId: `pay-${orderId}`, attempts: 3, backoffMs: 100 });
      return { orderId, holdId, status: 'PENDING' as const };
    });
  }

  /** Payment job: a decline fails the order; a transient error is thrown so the queue retries. */
  async processPayment(orderId: string): Promise<void> {
    const rows: { status: string; amount_cents: string; payment_method: string }[] = await this.ds.query(
      `SELECT status, amount_cents, payment_method FROM ticketing_orders WHERE id = $1`,
      [orderId],
    );
    if (rows.length === 0 || rows[0].status !== 'PENDING') return;
    const result = await this.payments.charge({
      orderId,
      amountCents: Number(rows[0].amount_cents),
      paymentMethod: rows[0].payment_method,
      idempotencyKey: orderId,
    });
    if (result.status === 'approved') await this.confirmOrder(orderId, result.reference);
    else if (result.status === 'declined') await this.failOrder(orderId, result.reason);
    // pending: the provider reports the outcome on the webhook.
  }

  async confirmOrder(orderId: string, paymentRef: string): Promise<void> {
    const done = await this.ds.transaction(async (m) => {
      const res = await m.query(
        `UPDATE ticketing_orders SET status = 'CONFIRMED', payment_ref = $2, updated_at_ms = $3 WHERE id = $1 AND status = 'PENDING' RETURNING hold_id, event_id`,
        [orderId, paymentRef, this.clock.now()],
      );
      const o = rowsOf<{ hold_id: string; event_id: string }>(res)[0];
      if (!o) return undefined;
      const sold = rowsOf<{ seat_id: string }>(
        await m.query(`UPDATE ticketing_seats SET status = 'SOLD' WHERE hold_id = $1 AND status = 'HELD' RETURNING seat_id`, [o.hold_id]),
      ).map((r) => r.seat_id);
      const codes = sold.map(() => randomBytes(9).toString('base64url').toUpperCase());
      await m.query(
        `INSERT INTO ticketing_tickets (code, order_id, event_id, seat_id) SELECT unnest($1::text[]), $2, $3, unnest($4::text[])`,
        [codes, orderId, o.event_id, sold],
      );
      await m.query(`UPDATE ticketing_holds SET status = 'CONVERTED' WHERE id = $1`, [o.hold_id]);
      return o;
    });
    if (done) await this.publishOutcome(orderId);
  }

  async failOrder(orderId: string, reason: string): Promise<void> {
    const done = await this.ds.transaction(async (m) => {
      const res = await m.query(
        `UPDATE ticketing_orders SET status = 'FAILED', failure_reason = $2, updated_at_ms = $3 WHERE id = $1 AND status = 'PENDING' RETURNING hold_id, event_id, user_id`,
        [orderId, reason, this.clock.now()],
      );
      const o = rowsOf<{ hold_id: string; event_id: string; user_id: string }>(res)[0];
      if (!o) return undefined;
      await m.query(`UPDATE ticketing_holds SET status = 'RELEASED' WHERE id = $1`, [o.hold_id]);
      return { o, seats: await this.freeSeats(m, o.hold_id) };
    });
    if (!done) return;
    await this.giveBack(done.o.event_id, done.o.user_id, done.seats);
    await this.publishOutcome(orderId);
  }

  /**
   * Announces a final order state on `ticketing.orders`, keyed by event so one event's outcomes stay
   * in order. Best effort after the commit (no outbox yet): a failed publish is logged, not retried.
   */
  private async publishOutcome(orderId: string): Promise<void> {
    try {
      const o = await this.getOrder(orderId);
      const type = o.status === 'CONFIRMED' ? 'order.confirmed' : 'order.failed';
      await this.bus.publish(topicName(this.config, 'ticketing.orders'), [
        { key: o.eventId, value: JSON.stringify({ type, ...o, at: iso(this.clock.now()) }), headers: { type } },
      ]);
    } catch (e) {
      this.log.warn(`publishing order ${orderId} failed: ${(e as Error).message}`);
    }
  }

  async getOrder(orderId: string): Promise<OrderView> {
    const views = await this.orders(`o.id = $1`, [orderId]);
    if (views.length === 0) throw notFound(C.OrderNotFound, 'order', orderId);
    return views[0];
  }

  async userOrders(userId: string): Promise<{ userId: string; orders: OrderView[] }> {
    return { userId, orders: await this.orders(`o.user_id = $1`, [userId]) };
  }

  private async orders(where: string, params: unknown[]): Promise<OrderView[]> {
    const rows: Record<string, string>[] = await this.ds.query(
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
      tickets: o.tickets as unknown as OrderView['tickets'],
      createdAt: iso(o.created_at_ms),
    }));
  }

  // ---------------------------------------------------------------- inventory upkeep

  /** Releases every ACTIVE hold past its expiry (the delayed job's safety net). */
  async reconcileExpiredHolds(limit = 500): Promise<number> {
    const due: { id: string }[] = await this.ds.query(
      `SELECT id FROM ticketing_holds WHERE status = 'ACTIVE' AND expires_at_ms <= $1 ORDER BY expires_at_ms LIMIT $2`,
      [this.clock.now(), limit],
    );
    let n = 0;
    for (const h of due) if (await this.expireHold(h.id)) n++;
    return n;
  }

  /**
   * Re-enqueues payments of orders still PENDING after `staleMs` (a lost job, a crashed worker).
   * Safe to repeat: the job re-reads the order and the provider deduplicates by order id.
   */
  async requeueStalePayments(staleMs = 60_000, limit = 500): Promise<number> {
    const now = this.clock.now();
    const stale: { id: string }[] = await this.ds.query(
      `SELECT id FROM ticketing_orders WHERE status = 'PENDING' AND updated_at_ms <= $1 ORDER BY updated_at_ms LIMIT $2`,
      [now - staleMs, limit],
    );
    const bucket = Math.floor(now / 60_000);
    for (const o of stale) {
      await this.queue.add(PAYMENT_QUEUE, 'charge', { orderId: o.id }, { jobId: `pay-${o.id}-r${bucket}`, attempts: 3, backoffMs: 100 });
    }
    return stale.length;
  }

  /** Rebuilds the hot inventory of events whose keys are gone (a Redis flush or failover). */
  async rebuildMissingInventories(): Promise<number> {
    const events: { id: string }[] = await this.ds.query(
      `SELECT id FROM ticketing_events WHERE starts_at_ms > $1 ORDER BY starts_at_ms LIMIT 1000`,
      [this.clock.now() - 86_400_000],
    );
    let n = 0;
    for (const e of events) {
      if ((await this.kv.get(this.keys(e.id)[2])) === null) {
        await this.rebuildInventory(e.id);
        n++;
      }
    }
    return n;
  }

  /**
   * Writes the event's hot inventory from SQL. The ready marker goes last, so holds racing a
   * rebuild see `missing` and wait rather than deciding against half-written keys. A lock keeps
   * concurrent rebuilds of one event to one.
   */
  async rebuildInventory(eventId: string): Promise<void> {
    const [stock, users, ready] = this.keys(eventId);
    const lock = `${ready}:lock`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: 10_000 }))) {
      for (let i = 0; i < 100 && (await this.kv.get(ready)) === null; i++) await new Promise((r) => setTimeout(r, 20));
      return;
    }
    try {
      const e = await this.eventRow(eventId);
      await this.kv.del([ready, stock, users]);
      const free: { seat_id: string }[] = await this.ds.query(
        `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`,
        [eventId],
      );
      if (e.kind === 'GA') await this.kv.set(stock, String(free.length));
      else for (let i = 0; i < free.length; i += 1000) await this.kv.sAdd(stock, free.slice(i, i + 1000).map((r) => r.seat_id));
      const perUser: { user_id: string; n: string }[] = await this.ds.query(
        `SELECT h.user_id, count(*) AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id
         WHERE s.event_id = $1 GROUP BY h.user_id`,
        [eventId],
      );
      if (perUser.length > 0) await this.kv.hSet(users, Object.fromEntries(perUser.map((r) => [r.user_id, Number(r.n)])));
      await this.kv.set(ready, String(this.clock.now()));
    } finally {
      await this.kv.del([lock]);
    }
  }

  // ---------------------------------------------------------------- helpers

  private keys(eventId: string): [string, string, string] {
    const p = `${this.config.NAMESPACE}:ticketing:${eventId}`;
    return [`${p}:stock`, `${p}:users`, `${p}:ready`];
  }

  /** Events never change once created, so each process keeps the rows it has read. */
  private async eventRow(eventId: string): Promise<EventRow> {
    const cached = this.events.get(eventId);
    if (cached) return cached;
    const rows: EventRow[] = await this.ds.query(`SELECT * FROM ticketing_events WHERE id = $1`, [eventId]);
    if (rows.length === 0) throw notFound(C.EventNotFound, 'event', eventId);
    if (this.events.size >= 10_000) this.events.clear();
    this.events.set(eventId, rows[0]);
    return rows[0];
  }

  /**
   * Runs `run` once per (scope, key) using the platform idempotency_keys table: a replay with the
   * same body returns the stored response, a different body is 422, a replay while the first is
   * still running is 409. A failed first attempt frees the key, so the client may retry it.
   */
  private async idempotent<T>(scope: string, key: string, request: unknown, run: () => Promise<T>): Promise<T> {
    const hash = createHash('sha256').update(canonicalJson(request)).digest('hex');
    const inserted: unknown[] = await this.ds.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, expires_at)
       VALUES ($1, $2, $3, 'PENDING', now() + interval '${IDEMPOTENCY_TTL}')
       ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
      [scope, key, hash],
    );
    if (inserted.length === 0) {
      const rows: { request_hash: string; status: string; response: T | null }[] = await this.ds.query(
        `SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2`,
        [scope, key],
      );
      const prior = rows[0];
      if (!prior) return this.idempotent(scope, key, request, run);
      if (prior.request_hash !== hash) {
        throw new TicketingError('unprocessable', C.IdempotencyKeyReused, 'this Idempotency-Key was used with a different request');
      }
      if (prior.status === 'COMPLETED' && prior.response !== null) return prior.response;
      throw new TicketingError('conflict', C.RequestInProgress, 'a request with this Idempotency-Key is still in progress', { retryAfterSeconds: 1 });
    }
    let result: T;
    try {
      result = await run();
    } catch (err) {
      await this.ds.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2`, [scope, key]).catch(() => undefined);
      throw err;
    }
    await this.ds.query(`UPDATE idempotency_keys SET status = 'COMPLETED', response = $3 WHERE scope = $1 AND key = $2`, [
      scope,
      key,
      JSON.stringify(result),
    ]);
    return result;
  }
}

function requireKey(key: string | undefined): string {
  if (!key || !/^[\x21-\x7e]{1,128}$/.test(key)) {
    throw new TicketingError('invalid', C.IdempotencyKeyRequired, 'an Idempotency-Key header (1-128 visible ASCII characters) is required');
  }
  return key;
}

function invalid(field: string, message: string, code: C = C.InvalidEvent): TicketingError {
  return new TicketingError('invalid', code, message, { errors: [{ field, message }] });
}

function notFound(code: C, what: string, id: string): TicketingError {
  return new TicketingError('not_found', code, `${what} ${id} not found`);
}

