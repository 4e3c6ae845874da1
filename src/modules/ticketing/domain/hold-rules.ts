import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { HoldInput } from '../ticketing.types';
import { invalid, iso, TicketedEvent } from './event-layout';

/**
 * The places a hold request asks for, checked against the event before any inventory is touched:
 * sales open (425 + Retry-After), the layout's way of asking (GA: quantity; seated: distinct
 * seatIds), and the per-user limit for this request alone (the inventory counts what is held).
 */
export function askedPlaces(e: TicketedEvent, input: HoldInput, nowMs: number): { quantity: number; seatIds: string[] } {
  if (e.salesOpenAtMs !== null && nowMs < e.salesOpenAtMs) {
    throw new TicketingError('too_early', C.SalesNotOpen, `sales open at ${iso(e.salesOpenAtMs)}`, {
      salesOpenAt: iso(e.salesOpenAtMs),
      retryAfterSeconds: Math.ceil((e.salesOpenAtMs - nowMs) / 1000),
    });
  }
  let seatIds: string[] = [];
  let quantity: number;
  if (e.kind === 'GA') {
    if (input.seatIds !== undefined) throw invalid('seatIds', 'a general-admission event takes quantity, not seatIds', C.InvalidHold);
    if (input.quantity === undefined) throw invalid('quantity', 'quantity is required for a general-admission event', C.InvalidHold);
    quantity = input.quantity;
  } else {
    if (!input.seatIds || input.seatIds.length === 0) throw invalid('seatIds', 'seatIds is required for a seated event', C.InvalidHold);
    seatIds = [...new Set(input.seatIds)];
    if (seatIds.length !== input.seatIds.length) throw invalid('seatIds', 'seatIds must not repeat', C.InvalidHold);
    if (input.quantity !== undefined && input.quantity !== seatIds.length) throw invalid('quantity', 'quantity must equal the number of seatIds', C.InvalidHold);
    quantity = seatIds.length;
  }
  if (quantity > e.maxPerUser) throw new TicketingError('forbidden', C.PerUserLimit, `at most ${e.maxPerUser} per user`, { maxPerUser: e.maxPerUser });
  return { quantity, seatIds };
}
