import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { rowsOf, Sql } from '../../../platform/database/rows-of';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { topicName } from '../../../platform/messaging/topics';
import { Outbox } from '../../../platform/outbox/outbox';
import { fromCents, iso, OrderState } from '../domain';
import { HoldRecord } from '../ports/hold-repository.port';
import { OrderRecord, OrderRepository, OrderTransaction } from '../ports/order-repository.port';
import { TicketingConfig } from '../ticketing.config';
import { ORDERS_TOPIC, OrderView } from '../ticketing.types';
import { freeSeats, HoldRow, toHoldRecord } from './sql-hold-repository';

type Row = Record<string, string>;

const toOrder = (o: Row): OrderRecord => ({
  id: o.id,
  holdId: o.hold_id,
  eventId: o.event_id,
  userId: o.user_id,
  status: o.status as OrderState,
  amountCents: Number(o.amount_cents),
  paymentMethod: o.payment_method,
  failureReason: o.failure_reason ?? null,
  paymentRef: o.payment_ref ?? null,
  expiresAtMs: Number(o.expires_at_ms),
});

@Injectable()
export class SqlOrderRepository extends OrderRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly config: TicketingConfig,
    private readonly ids: IdGenerator,
    private readonly outbox: Outbox,
  ) {
    super();
  }

  transaction<T>(work: (tx: OrderTransaction) => Promise<T>): Promise<T> {
    return this.ds.transaction((m) => work(new SqlOrderTransaction(m, this)));
  }

  async find(orderId: string): Promise<OrderRecord | undefined> {
    const rows: Row[] = await this.ds.query(`SELECT * FROM ticketing_orders WHERE id = $1`, [orderId]);
    return rows[0] && toOrder(rows[0]);
  }

  views(by: { orderId: string } | { userId: string }, sql: Sql = this.ds): Promise<OrderView[]> {
    return 'orderId' in by ? this.select(sql, `o.id = $1`, by.orderId) : this.select(sql, `o.user_id = $1`, by.userId);
  }

  private async select(sql: Sql, where: string, param: string): Promise<OrderView[]> {
    const rows: Row[] = await sql.query(
      `SELECT o.*, COALESCE(json_agg(json_build_object('code', t.code, 'seatId', t.seat_id) ORDER BY t.seat_id)
                FILTER (WHERE t.code IS NOT NULL), '[]') AS tickets
       FROM ticketing_orders o LEFT JOIN ticketing_tickets t ON t.order_id = o.id
       WHERE ${where} GROUP BY o.id ORDER BY o.created_at_ms DESC LIMIT 200`,
      [param],
    );
    return rows.map((o) => ({
      orderId: o.id,
      holdId: o.hold_id,
      eventId: o.event_id,
      userId: o.user_id,
      status: o.status as OrderView['status'],
      amount: fromCents(o.amount_cents),
      paymentMethod: o.payment_method,
      failureReason: o.failure_reason ?? null,
      tickets: (typeof o.tickets === 'string' ? JSON.parse(o.tickets) : o.tickets) as OrderView['tickets'],
      version: Number(o.version),
      expiresAt: iso(o.expires_at_ms),
      createdAt: iso(o.created_at_ms),
    }));
  }

  async clearVoidDue(orderId: string): Promise<void> {
    await this.ds.query(`UPDATE ticketing_orders SET void_due = false WHERE id = $1`, [orderId]);
  }

  overdue(nowMs: number, limit: number): Promise<string[]> {
    return this.orderIds(`o.status = 'PENDING' AND o.expires_at_ms <= $3`, 'o.expires_at_ms', limit, nowMs);
  }

  stalePending(beforeMs: number, limit: number): Promise<string[]> {
    return this.orderIds(`o.status = 'PENDING' AND o.updated_at_ms <= $3`, 'o.updated_at_ms', limit, beforeMs);
  }

  voidsDue(limit: number): Promise<string[]> {
    return this.orderIds(`o.void_due`, 'o.updated_at_ms', limit);
  }

  /** Order ids of this namespace's events matching `where`, oldest `order` first. */
  private async orderIds(where: string, order: string, limit: number, ...params: unknown[]): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT o.id FROM ticketing_orders o JOIN ticketing_events e ON e.id = o.event_id
       WHERE ${where} AND e.namespace = $1 ORDER BY ${order} LIMIT $2`,
      [this.config.NAMESPACE, limit, ...params],
    );
    return rows.map((r) => r.id);
  }

  async eventSummary(eventId: string, recent: number) {
    const [counts, rows] = await Promise.all([
      this.ds.query(`SELECT status, count(*)::int AS n FROM ticketing_orders WHERE event_id = $1 GROUP BY status`, [eventId]) as Promise<{ status: string; n: number }[]>,
      this.ds.query(`SELECT * FROM ticketing_orders WHERE event_id = $1 ORDER BY updated_at_ms DESC, id LIMIT $2`, [eventId, recent]) as Promise<Row[]>,
    ]);
    return { counts, recent: rows.map((o) => ({ ...toOrder(o), updatedAtMs: Number(o.updated_at_ms) })) };
  }

  /**
   * Writes the order's current state (read inside the transaction) to the outbox as
   * `order.<status>`, keyed by order id. The event id is a fresh UUIDv7 stored with the row, so
   * every republication of this state change carries the same id.
   */
  async announce(m: EntityManager, orderId: string, nowMs: number): Promise<void> {
    const [view] = await this.views({ orderId }, m);
    const id = this.ids.next();
    const type = view.status === 'PENDING' ? 'order.created' : `order.${view.status.toLowerCase()}`;
    await this.outbox.append(m, {
      id,
      topic: topicName(this.config, ORDERS_TOPIC),
      key: orderId,
      value: JSON.stringify({ id, type, ...view, occurredAt: iso(nowMs) }),
      headers: { type, 'event-id': id },
    });
  }
}

class SqlOrderTransaction implements OrderTransaction {
  constructor(
    private readonly m: EntityManager,
    private readonly repo: SqlOrderRepository,
  ) {}

  async lockHold(holdId: string): Promise<HoldRecord | undefined> {
    const rows: HoldRow[] = await this.m.query(`SELECT * FROM ticketing_holds WHERE id = $1 FOR UPDATE`, [holdId]);
    return rows[0] && toHoldRecord(rows[0]);
  }

  async lockOrder(orderId: string): Promise<OrderRecord | undefined> {
    const rows: Row[] = await this.m.query(`SELECT * FROM ticketing_orders WHERE id = $1 FOR UPDATE`, [orderId]);
    return rows[0] && toOrder(rows[0]);
  }

  async findOrder(orderId: string): Promise<OrderRecord | undefined> {
    const rows: Row[] = await this.m.query(`SELECT * FROM ticketing_orders WHERE id = $1`, [orderId]);
    return rows[0] && toOrder(rows[0]);
  }

  async insertOrder(o: Omit<OrderRecord, 'status' | 'failureReason' | 'paymentRef'>, nowMs: number): Promise<void> {
    await this.m.query(
      `INSERT INTO ticketing_orders (id, hold_id, event_id, user_id, amount_cents, payment_method, status, created_at_ms, updated_at_ms, expires_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $7, $8)`,
      [o.id, o.holdId, o.eventId, o.userId, o.amountCents, o.paymentMethod, nowMs, o.expiresAtMs],
    );
  }

  async setHoldStatus(holdId: string, status: string): Promise<void> {
    await this.m.query(`UPDATE ticketing_holds SET status = $2 WHERE id = $1`, [holdId, status]);
  }

  freeSeats(holdId: string): Promise<string[]> {
    return freeSeats(this.m, holdId);
  }

  async sell(o: OrderRecord, ticketCode: () => string): Promise<void> {
    const sold = rowsOf<{ seat_id: string }>(
      await this.m.query(`UPDATE ticketing_seats SET status = 'SOLD' WHERE hold_id = $1 AND status = 'HELD' RETURNING seat_id`, [o.holdId]),
    ).map((r) => r.seat_id);
    const [{ quantity }] = await this.m.query(`SELECT quantity FROM ticketing_holds WHERE id = $1`, [o.holdId]);
    // Never a confirmed order short of tickets: rolled back, the order stays PENDING and expires.
    if (sold.length !== Number(quantity)) throw new Error(`order ${o.id}: ${sold.length} of ${quantity} seats still held`);
    await this.m.query(`INSERT INTO ticketing_tickets (code, order_id, event_id, seat_id) SELECT unnest($1::text[]), $2, $3, unnest($4::text[])`, [
      sold.map(ticketCode),
      o.id,
      o.eventId,
      sold,
    ]);
    await this.setHoldStatus(o.holdId, 'CONVERTED');
  }

  async update(orderId: string, next: { status: OrderState; failureReason: string | null; paymentRef: string | null; voidDue: boolean }, nowMs: number): Promise<void> {
    await this.m.query(
      `UPDATE ticketing_orders SET status = $2, failure_reason = $3, payment_ref = $4, updated_at_ms = $5,
              version = version + 1, void_due = void_due OR $6 WHERE id = $1`,
      [orderId, next.status, next.failureReason, next.paymentRef, nowMs, next.voidDue],
    );
  }

  async setVoidDue(orderId: string): Promise<void> {
    await this.m.query(`UPDATE ticketing_orders SET void_due = true WHERE id = $1`, [orderId]);
  }

  announce(orderId: string, nowMs: number): Promise<void> {
    return this.repo.announce(this.m, orderId, nowMs);
  }
}
