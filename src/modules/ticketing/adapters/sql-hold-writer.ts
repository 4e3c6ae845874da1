import { HoldRequest } from '../ports/inventory-strategy.port';

/** Anything that runs SQL: the DataSource or a transaction's EntityManager. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<any>;
}

export type WriteResult =
  | { ok: true; seats: { seatId: string; priceCents: number }[] }
  | { ok: false; reason: 'short' | 'duplicate_key' };

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
