import { Clock } from '../../../platform/clock/clock';
import { seatInLayout } from '../domain';
import { EventRepository } from '../ports/event-repository.port';
import { HoldRepository } from '../ports/hold-repository.port';
import { HotInventory } from '../ports/hot-inventory.port';
import { HoldDecision, HoldKey, HoldRequest, HotSnapshot, InventoryEvent, InventoryStrategy } from '../ports/inventory-strategy.port';
import { HoldView } from '../ticketing.types';
import { CLAIM_TTL_MS, HoldIdempotency } from './hold-idempotency';

/**
 * TICKETING_HOLD_STRATEGY=redis (the default): the hot inventory (Redis, or in-process on the
 * embedded profile) checks the per-user limit and takes the places in one atomic step, so a burst
 * is decided without SQL for the losers; each winner is then written to SQL in one statement. If
 * SQL refuses (it is the source of truth), the places go back. A crash between the two steps
 * leaves the store one place short (never oversold); the reconciliation rebuild from SQL repairs it.
 */
export class HotInventoryStrategy extends InventoryStrategy {
  private readonly keyed: HoldIdempotency;

  constructor(
    private readonly hot: HotInventory,
    private readonly events: EventRepository,
    private readonly holds: HoldRepository,
    clock: Clock,
  ) {
    super();
    this.keyed = new HoldIdempotency(holds, hot, clock);
  }

  once(eventId: string, key: string, request: unknown, holdId: string, place: (holdId: string, idem: HoldKey) => Promise<HoldView>): Promise<HoldView> {
    return this.keyed.run(eventId, key, request, holdId, place);
  }

  async hold(e: InventoryEvent, req: HoldRequest): Promise<HoldDecision> {
    const idem = req.idempotency;
    const claim = idem?.claim !== undefined ? { key: idem.key, value: idem.claim, ttlMs: CLAIM_TTL_MS } : undefined;
    const decide = () => this.hot.tryHold(e, req.userId, req.quantity, req.seatIds, claim);
    let d = await decide();
    if (d.outcome === 'missing') {
      await this.rebuild(e);
      d = await decide();
    }
    switch (d.outcome) {
      case 'ok':
        break;
      case 'missing':
        return { outcome: 'busy' };
      case 'unloaded':
        return { outcome: 'keys_unloaded' };
      case 'claimed':
        return { outcome: 'key_claimed', claim: d.claim };
      case 'limit':
        return { outcome: 'limit', alreadyHeld: d.held };
      case 'sold_out':
        return d;
      case 'seat_unavailable':
        return this.unavailable(e, d.seatIds);
    }
    // Undo when SQL does not take the hold: the places go back, and the key's claim is dropped so
    // the client may retry (except for duplicate_key, whose claim the caller completes with the
    // hold SQL already has).
    const undo = async (keepClaim: boolean) => {
      await this.hot.release(e, req.userId, req.quantity, req.seatIds);
      if (claim && !keepClaim) await this.hot.swapClaim(e.id, claim.key, claim.value, '', 0);
    };
    let written;
    try {
      written = await this.holds.write(e.id, e.kind === 'GA' ? 'ga' : 'seated', req);
    } catch (err) {
      await undo(false);
      throw err;
    }
    if (written.ok) return { outcome: 'held', seats: written.seats };
    await undo(written.reason === 'duplicate_key');
    if (written.reason === 'duplicate_key') return { outcome: 'duplicate_key' };
    // The hot inventory said yes but SQL says no: SQL is the source of truth.
    return e.kind === 'GA' ? { outcome: 'sold_out', available: 0 } : { outcome: 'seat_unavailable', seatIds: req.seatIds };
  }

  /** Seats missing from the free set are either taken or not seats of the event. */
  private async unavailable(e: InventoryEvent, asked: string[]): Promise<HoldDecision> {
    // The layout answers without a query: a flash sale's thousands of losers never reach SQL.
    const known = e.sections ? new Set(asked.filter((s) => seatInLayout(e.sections!, s))) : await this.events.knownSeats(e.id, asked);
    const unknown = asked.filter((s) => !known.has(s));
    return unknown.length > 0 ? { outcome: 'unknown_seats', seatIds: unknown } : { outcome: 'seat_unavailable', seatIds: asked };
  }

  async giveBack(e: InventoryEvent, userId: string, seatIds: string[]): Promise<void> {
    if (seatIds.length > 0) await this.hot.release(e, userId, seatIds.length, seatIds);
  }

  isPrepared(eventId: string): Promise<boolean> {
    return this.hot.isReady(eventId);
  }

  /**
   * Writes the event's hot inventory from SQL, safely while holds and releases run (issue 9: drift
   * was repaired only after two quiet passes, i.e. after the sale). beginRebuild freezes the event:
   * holds answer `missing` and wait for this rebuild, releases are logged instead of applied. A
   * hold decided before the freeze whose SQL write commits after the read leaves the new count one
   * hold high, never low; releases logged after the read began are added back in the same atomic
   * step that makes the event ready (commitRebuild), so one whose SQL commit the read missed is not
   * lost (added twice at worst: high, never low). High is safe: the guarded SQL write refuses a
   * place SQL does not have. Concurrent rebuilds of one event are one.
   */
  async prepare(eventId: string): Promise<void> {
    const ev = await this.events.find(eventId);
    if (ev) await this.rebuild({ id: ev.id, kind: ev.kind, maxPerUser: ev.maxPerUser });
  }

  /** The rebuild itself; a hold that found the event not ready comes here directly (no SQL before the wait). */
  private async rebuild(e: InventoryEvent): Promise<void> {
    const since = await this.hot.beginRebuild(e.id);
    if (since === null) {
      for (let i = 0; i < 100 && !(await this.hot.isReady(e.id)); i++) await new Promise((r) => setTimeout(r, 20));
      return;
    }
    try {
      const free = await this.events.freeSeats(e.id);
      const perUser = await this.events.placesPerUser(e.id);
      await this.hot.commitRebuild(e, since, e.kind === 'GA' ? free.length : free, perUser);
    } finally {
      await this.hot.endRebuild(e.id);
    }
  }

  snapshot(e: InventoryEvent): Promise<HotSnapshot> {
    return this.hot.snapshot(e);
  }
}
