import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rowsOf } from '../../../platform/database/rows-of';
import { fromCents, iso } from '../domain';
import { HoldRecord, HoldRepository, KeyedHold, WriteResult } from '../ports/hold-repository.port';
import { HoldRequest } from '../ports/inventory-strategy.port';
import { TicketingConfig } from '../ticketing.config';

export interface HoldRow {
  id: string;
  event_id: string;
  user_id: string;
  status: string;
  expires_at_ms: string;
  amount_cents: string;
  seat_ids: string[] | null;
  request_hash: string | null;
  idempotency_key: string | null;
  created_at_ms: string;
}

export const toHoldRecord = (r: HoldRow): HoldRecord => ({
  id: r.id,
  eventId: r.event_id,
  userId: r.user_id,
  status: r.status,
  expiresAtMs: Number(r.expires_at_ms),
  amountCents: Number(r.amount_cents),
});

/** The answer the client got when the hold was placed, rebuilt from its row. */
const toKeyed = (r: HoldRow): KeyedHold | undefined =>
  r.seat_ids
    ? {
        view: { holdId: r.id, eventId: r.event_id, userId: r.user_id, seatIds: [...r.seat_ids], expiresAt: iso(r.expires_at_ms), amount: fromCents(r.amount_cents) },
        key: r.idempotency_key ?? '',
        requestHash: r.request_hash ?? '',
        createdAtMs: Number(r.created_at_ms),
      }
    : undefined;

/** Anything that runs SQL: the DataSource or a transaction's EntityManager. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<any>;
}

@Injectable()
export class SqlHoldRepository extends HoldRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly config: TicketingConfig,
  ) {
    super();
  }

  write(eventId: string, mode: 'ga' | 'seated', req: HoldRequest): Promise<WriteResult> {
    return writeHold(this.ds, eventId, mode, req);
  }

  async find(holdId: string): Promise<HoldRecord | undefined> {
    const rows: HoldRow[] = await this.ds.query(`SELECT * FROM ticketing_holds WHERE id = $1`, [holdId]);
    return rows[0] && toHoldRecord(rows[0]);
  }

  async seatIds(holdId: string): Promise<string[]> {
    const rows: { seat_id: string }[] = await this.ds.query(`SELECT seat_id FROM ticketing_seats WHERE hold_id = $1 ORDER BY seat_id`, [holdId]);
    return rows.map((s) => s.seat_id);
  }

  end(holdId: string, status: string, decide: (h: HoldRecord) => boolean): Promise<{ hold: HoldRecord; freed: string[] | null } | undefined> {
    return this.ds.transaction(async (m) => {
      const rows: HoldRow[] = await m.query(`SELECT * FROM ticketing_holds WHERE id = $1 FOR UPDATE`, [holdId]);
      if (rows.length === 0) return undefined;
      const hold = toHoldRecord(rows[0]);
      if (!decide(hold)) return { hold, freed: null };
      await m.query(`UPDATE ticketing_holds SET status = $2 WHERE id = $1`, [holdId, status]);
      return { hold, freed: await freeSeats(m, holdId) };
    });
  }

  async overdue(nowMs: number, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT h.id FROM ticketing_holds h JOIN ticketing_events e ON e.id = h.event_id
       WHERE h.status = 'ACTIVE' AND h.expires_at_ms <= $1 AND e.namespace = $3 ORDER BY h.expires_at_ms LIMIT $2`,
      [nowMs, limit, this.config.NAMESPACE],
    );
    return rows.map((r) => r.id);
  }

  async keyed(by: { holdId: string } | { key: string }): Promise<KeyedHold | undefined> {
    const rows: HoldRow[] =
      'key' in by
        ? await this.ds.query(`SELECT * FROM ticketing_holds WHERE idempotency_key = $1`, [by.key])
        : await this.ds.query(`SELECT * FROM ticketing_holds WHERE id = $1`, [by.holdId]);
    return rows[0] && toKeyed(rows[0]);
  }

  async keyedSince(eventId: string, sinceMs: number, afterId: string, limit: number): Promise<KeyedHold[]> {
    const rows: HoldRow[] = await this.ds.query(
      `SELECT * FROM ticketing_holds WHERE event_id = $3 AND idempotency_key IS NOT NULL AND created_at_ms > $1 AND id > $2 ORDER BY id LIMIT $4`,
      [sinceMs, afterId, eventId, limit],
    );
    return rows.flatMap((r) => toKeyed(r) ?? []);
  }
}

/** Seats HELD by the hold back to AVAILABLE; returns their ids. */
export async function freeSeats(sql: SqlRunner, holdId: string): Promise<string[]> {
  const res = await sql.query(`UPDATE ticketing_seats SET status = 'AVAILABLE', hold_id = NULL WHERE hold_id = $1 AND status = 'HELD' RETURNING seat_id`, [holdId]);
  return rowsOf<{ seat_id: string }>(res).map((r) => r.seat_id);
}

/**
 * Takes the places and inserts the hold in ONE statement (one round trip): a CTE moves seats
 * AVAILABLE → HELD guarded by their status (GA: `FOR UPDATE SKIP LOCKED` picks free rows) and
 * inserts the hold only if every place was taken; otherwise the seats would point at a missing
 * hold, the foreign key fails at the end of the statement and everything rolls back. The hold row
 * carries the Idempotency-Key (unique) and the seats it was given, so the key commits with the hold.
 */
export async function writeHold(sql: SqlRunner, eventId: string, mode: 'ga' | 'seated', req: HoldRequest): Promise<WriteResult> {
  const pick =
    mode === 'ga'
      ? `seat_id IN (SELECT seat_id FROM ticketing_seats WHERE event_id = $2 AND status = 'AVAILABLE'
                     ORDER BY seat_id LIMIT $4::int FOR UPDATE SKIP LOCKED)`
      : `seat_id = ANY($9::text[]) AND status = 'AVAILABLE'`;
  const params: unknown[] = [
    req.holdId,
    eventId,
    req.userId,
    req.quantity,
    req.expiresAtMs,
    req.nowMs,
    req.idempotency?.key ?? null,
    req.idempotency?.hash ?? null,
  ];
  if (mode === 'seated') params.push(req.seatIds);
  let rows: { seat_id: string; price_cents: string }[];
  try {
    rows = await sql.query(
      `WITH s AS (
         UPDATE ticketing_seats SET status = 'HELD', hold_id = $1 WHERE event_id = $2 AND ${pick}
         RETURNING seat_id, price_cents),
       h AS (
         INSERT INTO ticketing_holds (id, event_id, user_id, quantity, amount_cents, status, expires_at_ms, created_at_ms,
                                      idempotency_key, request_hash, seat_ids)
         SELECT $1, $2, $3, $4::int, (SELECT COALESCE(sum(price_cents), 0) FROM s), 'ACTIVE', $5::bigint, $6::bigint,
                $7::text, $8::text, (SELECT array_agg(seat_id ORDER BY seat_id COLLATE "C") FROM s)
         WHERE (SELECT count(*) FROM s) = $4::int
         RETURNING id)
       SELECT s.seat_id, s.price_cents FROM s, h`,
      params,
    );
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '23503') return { ok: false, reason: 'short' };
    if (code === '23505' && String((err as { constraint?: string }).constraint ?? (err as Error).message).includes('idempotency_key')) {
      return { ok: false, reason: 'duplicate_key' };
    }
    throw err;
  }
  if (rows.length !== req.quantity) return { ok: false, reason: 'short' };
  return { ok: true, seats: rows.map((r) => ({ seatId: r.seat_id, priceCents: Number(r.price_cents) })) };
}
