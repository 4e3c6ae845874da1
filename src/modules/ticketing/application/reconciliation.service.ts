import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { EventRepository } from '../ports/event-repository.port';
import { HoldRepository } from '../ports/hold-repository.port';
import { InventoryStrategy } from '../ports/inventory-strategy.port';
import { EventsService } from './events.service';
import { HoldsService, inventoryEvent } from './holds.service';
import { OrdersService } from './orders.service';
import { TicketingMetrics } from './ticketing.metrics';

/** A shortfall seen twice this far apart is not just holds in flight (those take milliseconds). */
const SHORTFALL_CONFIRM_MS = 200;

/**
 * The safety net behind the delayed jobs and the post-commit steps a crash can cut off (scheduler
 * role, every 10 s): overdue holds and orders expire, voids and payments are retried, and hot
 * inventory that is gone or disagrees with SQL is rebuilt. Every step is idempotent and scoped
 * to this NAMESPACE's events.
 */
@Injectable()
export class ReconciliationService {
  private readonly log = new Logger('ticketing');
  private lastDrift = new Map<string, string>();

  constructor(
    private readonly events: EventsService,
    private readonly eventRows: EventRepository,
    private readonly holdRows: HoldRepository,
    private readonly holds: HoldsService,
    private readonly orders: OrdersService,
    private readonly inventory: InventoryStrategy,
    private readonly metrics: TicketingMetrics,
    private readonly clock: Clock,
  ) {}

  /** One pass; the counts say what each step repaired. */
  async reconcileOnce(): Promise<Record<string, number>> {
    const done = {
      expiredHolds: await this.reconcileExpiredHolds(),
      expiredOrders: await this.orders.reconcileExpiredOrders(),
      voidsSettled: await this.orders.settleDueVoids(),
      requeuedPayments: await this.orders.requeueStalePayments(),
      rebuiltInventories: await this.rebuildMissingInventories(),
      repairedInventories: await this.repairInventoryDrift(),
    };
    for (const [step, n] of Object.entries(done)) if (n > 0) this.metrics.repairs.inc({ step }, n);
    return done;
  }

  /** Releases every ACTIVE hold past its expiry (the delayed job's safety net). */
  async reconcileExpiredHolds(limit = 500): Promise<number> {
    let n = 0;
    for (const id of await this.holdRows.overdue(this.clock.now(), limit)) if (await this.holds.expireHold(id)) n++;
    return n;
  }

  /** Rebuilds the hot inventory of events whose state is gone (a Redis flush or failover). */
  async rebuildMissingInventories(): Promise<number> {
    let n = 0;
    for (const id of await this.upcoming()) {
      if (await this.inventory.isPrepared(id)) continue;
      await this.inventory.prepare(id);
      n++;
    }
    return n;
  }

  /**
   * Repairs hot inventory that disagrees with SQL (a process killed between the key/value step and
   * the SQL step of a hold or a release). Places SQL has free but the store has not turn buyers
   * away with `sold_out`: when a second look SHORTFALL_CONFIRM_MS later still finds such a
   * shortfall, the event is rebuilt in this pass, sale or not (the rebuild is safe under load; see
   * HotInventoryStrategy.prepare). A shortfall that is only holds in flight (taken in the store,
   * not yet in SQL) costs a needless rebuild, never a wrong count. Any other difference (the store
   * high, per-user counts) is rebuilt when the same difference is seen on two consecutive calls.
   * Returns rebuilds.
   */
  async repairInventoryDrift(): Promise<number> {
    const seen = new Map<string, string>();
    let n = 0;
    for (const id of await this.upcoming()) {
      const drift = await this.inventoryDrift(id);
      if (drift === null) continue;
      const short = await this.confirmedShortfall(id);
      if (!short && this.lastDrift.get(id) !== drift) {
        seen.set(id, drift);
        continue;
      }
      this.log.warn(short ? `event ${id}: hot inventory is short of SQL's free places (${drift}); rebuilding now` : `event ${id}: hot inventory disagrees with SQL (${drift}); rebuilding`);
      await this.inventory.prepare(id);
      n++;
    }
    this.lastDrift = seen;
    return n;
  }

  /** null when the event's hot inventory matches SQL (or is not built); else what differs. */
  async inventoryDrift(eventId: string): Promise<string | null> {
    const hot = await this.inventory.snapshot(inventoryEvent(await this.events.event(eventId)));
    if (!hot?.ready) return null;
    const free = await this.eventRows.freeSeats(eventId);
    const perUser = await this.eventRows.placesPerUser(eventId);
    const problems: string[] = [];
    if (typeof hot.free === 'number') {
      if (hot.free !== free.length) problems.push(`free ${hot.free}/${free.length}`);
    } else {
      const kvFree = new Set(hot.free);
      const extra = free.filter((id) => !kvFree.has(id)).length;
      if (extra > 0 || kvFree.size !== free.length) problems.push(`free ${kvFree.size}/${free.length} missing ${extra}`);
    }
    let wrong = 0;
    for (const [u, v] of Object.entries(hot.users)) if ((perUser.get(u) ?? 0) !== v) wrong++;
    for (const [u, v] of perUser) if (hot.users[u] === undefined && v !== 0) wrong++;
    if (wrong > 0) problems.push(`users ${wrong}`);
    return problems.length === 0 ? null : problems.join(', ');
  }

  /** Whether two looks SHORTFALL_CONFIRM_MS apart both find free SQL places the store lacks. */
  private async confirmedShortfall(eventId: string): Promise<boolean> {
    const first = await this.shortfall(eventId);
    if (first.size === 0) return false;
    await new Promise((r) => setTimeout(r, SHORTFALL_CONFIRM_MS));
    const second = await this.shortfall(eventId);
    return [...first].some((x) => second.has(x));
  }

  /**
   * Places free in SQL but not in the store: the seat ids, or for GA one token when the count is
   * short. The store is read first: a hold in flight shows up as a shortfall, a release in flight
   * too; neither can hide one.
   */
  private async shortfall(eventId: string): Promise<Set<string>> {
    const hot = await this.inventory.snapshot(inventoryEvent(await this.events.event(eventId)));
    const free = await this.eventRows.freeSeats(eventId);
    if (!hot) return new Set();
    if (typeof hot.free === 'number') return new Set(free.length > hot.free ? ['places'] : []);
    const kvFree = new Set(hot.free);
    return new Set(free.filter((id) => !kvFree.has(id)));
  }

  private upcoming(): Promise<string[]> {
    return this.eventRows.upcoming(this.clock.now() - 86_400_000);
  }
}
