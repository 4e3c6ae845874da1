import { Injectable } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { requireIdempotencyKey } from '../../../platform/idempotency/idempotency-store';
import { askedPlaces, fromCents, iso, TicketedEvent } from '../domain';
import { HoldRecord, HoldRepository } from '../ports/hold-repository.port';
import { HoldDecision, HoldKey, InventoryEvent, InventoryStrategy, KeyOutcome } from '../ports/inventory-strategy.port';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { HoldInput, HoldView } from '../ticketing.types';
import { EventsService } from './events.service';
import { WaitingRoomService } from './waiting-room.service';

export const HOLD_QUEUE = 'ticketing-holds';

/**
 * Holds: a flash-sale hold is decided by the inventory strategy (by default the hot inventory,
 * one atomic step, so a burst of losers never reaches SQL), its winner written to SQL, whose
 * guarded status transitions and primary key on (event, seat) remain the source of truth. Holds
 * end by release, expiry (delayed job, reconciler) or a failed order; their places go back.
 */
@Injectable()
export class HoldsService {
  constructor(
    private readonly holds: HoldRepository,
    private readonly events: EventsService,
    private readonly inventory: InventoryStrategy,
    private readonly waitingRoom: WaitingRoomService,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** `waitingRoomToken`: the Waiting-Room-Token header, required when the event's room is enabled. */
  async hold(eventId: string, input: HoldInput, idempotencyKey: string | undefined, waitingRoomToken?: string): Promise<HoldView> {
    const key = requireIdempotencyKey(idempotencyKey);
    const e = await this.events.event(eventId);
    await this.waitingRoom.requireAdmitted(e, waitingRoomToken, input.userId);
    let expiry: Promise<unknown> | undefined;
    const view = await this.inventory.once(eventId, key, { eventId, ...input }, this.ids.next(), (holdId, idem) =>
      this.place(e, input, holdId, idem, (job) => (expiry = job)),
    );
    await expiry;
    return view;
  }

  /**
   * `queued` gets the expiry job's enqueueing, which runs beside the key's claim completion rather
   * than before it: a winner waits for one round trip less (issue 14: in a flash sale every await of
   * a winner queues behind the burst). The hold is committed in SQL either way; if enqueueing fails
   * the client gets the error, a replay the hold, and the reconciler expires it (overdue ACTIVE holds).
   */
  private async place(e: TicketedEvent, input: HoldInput, holdId: string, idempotency: HoldKey | undefined, queued: (job: Promise<unknown>) => void): Promise<HoldView> {
    const nowMs = this.clock.now();
    const { quantity, seatIds } = askedPlaces(e, input, nowMs);
    const expiresAtMs = nowMs + e.holdTtlSeconds * 1000;
    const decision = await this.inventory.hold(inventoryEvent(e), { holdId, userId: input.userId, quantity, seatIds, nowMs, expiresAtMs, idempotency });
    const taken = heldOrThrow(e, quantity, decision);
    const job = this.queue.add(HOLD_QUEUE, 'expire', { holdId }, { jobId: `expire-${holdId}`, delayMs: e.holdTtlSeconds * 1000 });
    job.catch(() => undefined); // awaited by hold(), after the claim completes
    queued(job);
    return {
      holdId,
      eventId: e.id,
      userId: input.userId,
      seatIds: taken.map((r) => r.seatId).sort(),
      expiresAt: iso(expiresAtMs),
      amount: fromCents(taken.reduce((n, r) => n + r.priceCents, 0)),
    };
  }

  async getHold(holdId: string): Promise<Record<string, unknown>> {
    const h = await this.holds.find(holdId);
    if (!h) throw holdNotFound(holdId);
    return {
      holdId: h.id,
      eventId: h.eventId,
      userId: h.userId,
      status: h.status,
      seatIds: await this.holds.seatIds(holdId),
      expiresAt: iso(h.expiresAtMs),
      amount: fromCents(h.amountCents),
    };
  }

  /** Explicit release by the client: only an ACTIVE hold, only by its owner when userId is given. */
  async releaseHold(holdId: string, userId?: string): Promise<{ holdId: string; status: string }> {
    const released = await this.end(holdId, 'RELEASED', (h) => {
      if (userId !== undefined && h.userId !== userId) throw new TicketingError('forbidden', C.HoldNotOwned, 'the hold belongs to another user');
      if (h.status !== 'ACTIVE') throw new TicketingError('conflict', C.HoldNotActive, `hold is ${h.status}`, { holdStatus: h.status });
      return true;
    });
    if (released === undefined) throw holdNotFound(holdId);
    if (released) await this.queue.remove(HOLD_QUEUE, `expire-${holdId}`).catch(() => false);
    return { holdId, status: 'RELEASED' };
  }

  /** Expiry (delayed job or reconciler): releases the hold only if it is still ACTIVE and due. */
  async expireHold(holdId: string): Promise<boolean> {
    const now = this.clock.now();
    return (await this.end(holdId, 'EXPIRED', (h) => h.status === 'ACTIVE' && h.expiresAtMs <= now)) ?? false;
  }

  /** Ends a hold in SQL (one transaction), then gives its places back to the inventory. Undefined: no such hold. */
  private async end(holdId: string, status: string, decide: (h: HoldRecord) => boolean): Promise<boolean | undefined> {
    const done = await this.holds.end(holdId, status, decide);
    if (!done?.freed) return done && false;
    await this.giveBack(done.hold.eventId, done.hold.userId, done.freed);
    return true;
  }

  /** After SQL freed `seats` of `userId` (release, expiry, failed order): the inventory may sell them again. */
  async giveBack(eventId: string, userId: string, seats: string[]): Promise<void> {
    if (seats.length === 0) return;
    await this.inventory.giveBack(inventoryEvent(await this.events.event(eventId)), userId, seats);
  }
}

export function inventoryEvent(e: TicketedEvent): InventoryEvent {
  return { id: e.id, kind: e.kind, maxPerUser: e.maxPerUser, ...(e.kind === 'SEATED' && e.layout.sections ? { sections: e.layout.sections } : {}) };
}

const holdNotFound = (holdId: string) => new TicketingError('not_found', C.HoldNotFound, `hold ${holdId} not found`);

/** Maps the inventory's decision to the places taken or the client's error. */
function heldOrThrow(e: TicketedEvent, qty: number, d: HoldDecision): { seatId: string; priceCents: number }[] {
  switch (d.outcome) {
    case 'held':
      return d.seats;
    case 'duplicate_key':
    case 'key_claimed':
    case 'keys_unloaded':
      throw new KeyOutcome(d);
    case 'busy':
      throw new TicketingError('unavailable', C.InventoryBusy, 'inventory is being rebuilt; retry', { retryAfterSeconds: 1 });
    case 'limit':
      throw new TicketingError('forbidden', C.PerUserLimit, `at most ${e.maxPerUser} per user; ${d.alreadyHeld} already held or bought`, {
        maxPerUser: e.maxPerUser,
        alreadyHeld: d.alreadyHeld,
      });
    case 'sold_out':
      throw new TicketingError('conflict', C.SoldOut, `sold out: ${d.available} left, ${qty} asked`, { available: d.available });
    case 'unknown_seats':
      throw new TicketingError('invalid', C.UnknownSeats, `not seats of this event: ${d.seatIds.join(', ')}`, { seatIds: d.seatIds });
    case 'seat_unavailable':
      throw new TicketingError('conflict', C.SeatUnavailable, `seats not available: ${d.seatIds.join(', ')}`, { seatIds: d.seatIds });
    default:
      throw new Error(`unexpected inventory decision ${JSON.stringify(d)}`);
  }
}
