import { EventConfig, parseSeatId, seatExists } from './event-config';

/** Pure hold rules. Times are epoch milliseconds passed in by the caller. */

export type RuleResult = { ok: true } | { ok: false; reason: string };

/** A user may hold at most maxPerUser units in total (already held/bought + requested). */
export function canHold(userHeldCount: number, requested: number, maxPerUser: number): RuleResult {
  if (!Number.isInteger(requested) || requested < 1) return { ok: false, reason: 'requested must be a positive integer' };
  if (!Number.isInteger(userHeldCount) || userHeldCount < 0) return { ok: false, reason: 'userHeldCount must be >= 0' };
  if (userHeldCount + requested > maxPerUser) {
    return { ok: false, reason: `limit is ${maxPerUser} per user; already ${userHeldCount}, requested ${requested}` };
  }
  return { ok: true };
}

/** Sales are open on [salesOpenAt, salesCloseAt). */
export function salesOpen(config: Pick<EventConfig, 'salesOpenAt' | 'salesCloseAt'>, nowMs: number): RuleResult {
  if (nowMs < config.salesOpenAt) return { ok: false, reason: 'sales not open yet' };
  if (config.salesCloseAt !== undefined && nowMs >= config.salesCloseAt) return { ok: false, reason: 'sales closed' };
  return { ok: true };
}

export function holdExpiresAt(createdAtMs: number, holdTtlSeconds: number): number {
  return createdAtMs + holdTtlSeconds * 1000;
}

/** A hold is expired from its expiry instant on (inclusive). */
export function isHoldExpired(hold: { expiresAt: number }, nowMs: number): boolean {
  return nowMs >= hold.expiresAt;
}

/** Amount in minor units for a list of unit ids (seated or GA) at section prices. */
export function computeAmount(config: Pick<EventConfig, 'sections'>, seatIds: readonly string[]): number {
  if (seatIds.length === 0) throw new RangeError('no seats');
  if (new Set(seatIds).size !== seatIds.length) throw new RangeError('duplicate seat ids');
  let total = 0;
  for (const id of seatIds) {
    const p = parseSeatId(id);
    const section = p && config.sections.find((s) => s.id === p.section);
    if (!section) throw new RangeError(`unknown seat ${id}`);
    total += section.price;
  }
  if (!Number.isSafeInteger(total)) throw new RangeError('amount overflow');
  return total;
}

export type HoldRejection = 'EMPTY' | 'DUPLICATE_SEAT' | 'UNKNOWN_SEAT' | 'SALES_NOT_OPEN' | 'SALES_CLOSED' | 'LIMIT_EXCEEDED';

export type HoldPlan =
  | { ok: true; seatIds: string[]; amount: number; expiresAt: number }
  | { ok: false; rejection: HoldRejection; detail: string };

/**
 * All pure pre-checks for a hold request, in order: non-empty, no duplicates, seats exist, sales
 * open, per-user limit; then the amount and expiry. Availability is NOT checked here: the adapter
 * flips AVAILABLE → HELD atomically for all seats or none.
 */
export function planHold(
  config: EventConfig,
  request: { userHeldCount: number; seatIds: readonly string[]; nowMs: number },
): HoldPlan {
  const { seatIds, nowMs } = request;
  if (seatIds.length === 0) return { ok: false, rejection: 'EMPTY', detail: 'no seats requested' };
  const dup = seatIds.find((id, i) => seatIds.indexOf(id) !== i);
  if (dup !== undefined) return { ok: false, rejection: 'DUPLICATE_SEAT', detail: dup };
  const unknown = seatIds.find((id) => !seatExists(config, id));
  if (unknown !== undefined) return { ok: false, rejection: 'UNKNOWN_SEAT', detail: unknown };
  const open = salesOpen(config, nowMs);
  if (!open.ok) return { ok: false, rejection: nowMs < config.salesOpenAt ? 'SALES_NOT_OPEN' : 'SALES_CLOSED', detail: open.reason };
  const limit = canHold(request.userHeldCount, seatIds.length, config.maxPerUser);
  if (!limit.ok) return { ok: false, rejection: 'LIMIT_EXCEEDED', detail: limit.reason };
  return {
    ok: true,
    seatIds: [...seatIds],
    amount: computeAmount(config, seatIds),
    expiresAt: holdExpiresAt(nowMs, config.holdTtlSeconds),
  };
}
