import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../platform/clock/clock';
import { IdGenerator } from '../../platform/ids/id-generator';
import { KeyValueStore } from '../../platform/kv/key-value-store.port';
import { runIdempotent, STALE_IN_FLIGHT_MS } from '../../platform/idempotency/sql-idempotency';
import { JobQueue } from '../../platform/queue/job-queue.port';
import { rowsOf } from '../../platform/database/rows-of';
import { ClaimsUnloaded, DuplicateHoldKey, HoldIdempotency, KeyClaimed } from './adapters/hold-idempotency';
import { eventKeyPrefix } from './adapters/hold-idempotency-scripts';
import { HoldDecision, InventoryEvent, InventoryStrategy } from './ports/inventory-strategy.port';
import { RoomEvent, WaitingRoomConfig, WaitingRoomService } from './application/waiting-room.service';
import { TicketingCode as C, TicketingError } from './ticketing.errors';
import { CreateEventInput, HoldInput, HoldView } from './ticketing.types';

export const HOLD_QUEUE = 'ticketing-holds';
export const PAYMENT_QUEUE = 'ticketing-payments';
const MAX_CAPACITY = 100_000;

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
  waiting_room: WaitingRoomConfig | null;
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

/** A shortfall seen twice this far apart is not just holds in flight (those take milliseconds). */
const SHORTFALL_CONFIRM_MS = 200;

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
  private readonly holdKeys: HoldIdempotency;
  private lastDrift = new Map<string, string>();

  constructor(
    private readonly ds: DataSource,
    private readonly kv: KeyValueStore,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: AppConfig,
    private readonly inventory: InventoryStrategy,
    private readonly waitingRoom: WaitingRoomService,
  ) {
    this.holdKeys = new HoldIdempotency(ds, kv, clock, config.NAMESPACE);
  }

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
        `INSERT INTO ticketing_events (id, name, kind, starts_at_ms, sales_open_at_ms, hold_ttl_seconds, max_per_user, capacity, sections, created_at_ms, namespace)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [id, input.name, kind, startsAt, salesOpenAt, input.holdTtlSeconds ?? 300, input.maxPerUser ?? 4, capacity, JSON.stringify(layout), this.clock.now(), this.config.NAMESPACE],
      );
      if (input.waitingRoom) {
        await m.query(`UPDATE ticketing_events SET waiting_room = $2 WHERE id = $1`, [id, JSON.stringify(input.waitingRoom)]);
      }
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
      waitingRoom: e.waiting_room ?? null,
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

  /** `waitingRoomToken`: the Waiting-Room-Token header, required when the event's room is enabled. */
  async hold(eventId: string, input: HoldInput, idempotencyKey: string | undefined, waitingRoomToken?: string): Promise<HoldView> {
    const key = requireKey(idempotencyKey);
    await this.waitingRoom.requireAdmitted(await this.roomEvent(eventId), waitingRoomToken, input.userId);
    const request = { eventId, ...input };
    const holdId = this.ids.next();
    if (this.inventory.name === 'postgres') {
      // A takeover of a stale key reuses the crashed attempt's hold id: answer from its hold if it committed.
      return this.idempotent('ticketing:hold', key, request, holdId, async (id) => (id !== holdId && (await this.holdKeys.viewById(id))) || this.placeHold(eventId, input, id));
    }
    // Redis path: key claims in the key/value store, the key committed on the hold row itself.
    return this.holdKeys.run(eventId, key, request, holdId, (idem) => this.placeHold(eventId, input, holdId, idem));
  }

  /** The event as the waiting room sees it (404 for an unknown event). */
  async roomEvent(eventId: string): Promise<RoomEvent> {
    const e = await this.eventRow(eventId);
    return {
      id: e.id,
      waitingRoom: e.waiting_room ?? null,
      salesOpenAtMs: e.sales_open_at_ms === null ? null : Number(e.sales_open_at_ms),
      startsAtMs: Number(e.starts_at_ms),
    };
  }

  private async placeHold(eventId: string, input: HoldInput, holdId: string, idem?: { key: string; hash: string; claim: string }): Promise<HoldView> {
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

    const expiresAt = now + e.hold_ttl_seconds * 1000;
    const decision = await this.inventory.hold(inventoryEvent(e), {
      holdId,
      userId: input.userId,
      quantity: qty,
      seatIds: seats,
      nowMs: now,
      expiresAtMs: expiresAt,
      idempotency: idem,
    });
    const taken = this.heldOrThrow(e, qty, decision);
    await this.queue.add(HOLD_QUEUE, 'expire', { holdId }, { jobId: `expire-${holdId}`, delayMs: e.hold_ttl_seconds * 1000 });
    return {
      holdId,
      eventId,
      userId: input.userId,
      seatIds: taken.map((r) => r.seatId).sort(),
      expiresAt: iso(expiresAt),
      amount: money(taken.reduce((n, r) => n + r.priceCents, 0)),
    };
  }

  /** Maps the inventory strategy's decision to the places taken or the client's error. */
  private heldOrThrow(e: EventRow, qty: number, d: HoldDecision): { seatId: string; priceCents: number }[] {
    switch (d.outcome) {
      case 'held':
        return d.seats;
      case 'busy':
        throw new TicketingError('unavailable', C.InventoryBusy, 'inventory is being rebuilt; retry', { retryAfterSeconds: 1 });
      case 'duplicate_key':
        throw new DuplicateHoldKey();
      case 'key_claimed':
        throw new KeyClaimed(d.claim);
      case 'keys_unloaded':
        throw new ClaimsUnloaded();
      case 'limit':
        throw new TicketingError('forbidden', C.PerUserLimit, `at most ${e.max_per_user} per user; ${d.alreadyHeld} already held or bought`, {
          maxPerUser: e.max_per_user,
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

  async giveBack(eventId: string, userId: string, seats: string[]): Promise<void> {
    if (seats.length === 0) return;
    await this.inventory.giveBack(inventoryEvent(await this.eventRow(eventId)), userId, seats);
  }

  // ---------------------------------------------------------------- inventory upkeep

  /** Releases every ACTIVE hold past its expiry (the delayed job's safety net). */
  async reconcileExpiredHolds(limit = 500): Promise<number> {
    const due: { id: string }[] = await this.ds.query(
      `SELECT h.id FROM ticketing_holds h JOIN ticketing_events e ON e.id = h.event_id
       WHERE h.status = 'ACTIVE' AND h.expires_at_ms <= $1 AND e.namespace = $3 ORDER BY h.expires_at_ms LIMIT $2`,
      [this.clock.now(), limit, this.config.NAMESPACE],
    );
    let n = 0;
    for (const h of due) if (await this.expireHold(h.id)) n++;
    return n;
  }

  /** Rebuilds the hot inventory of events whose keys are gone (a Redis flush or failover). */
  async rebuildMissingInventories(): Promise<number> {
    const events: { id: string }[] = await this.ds.query(
      `SELECT id FROM ticketing_events WHERE starts_at_ms > $1 AND namespace = $2 ORDER BY starts_at_ms LIMIT 1000`,
      [this.clock.now() - 86_400_000, this.config.NAMESPACE],
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
   * Repairs hot inventory that disagrees with SQL (a process killed between the key/value step and
   * the SQL step of a hold or a release). Places SQL has free but the store has not turn buyers
   * away with `sold_out`: when a second look SHORTFALL_CONFIRM_MS later still finds such a
   * shortfall, the event is rebuilt in this pass, sale or not (the rebuild is safe under load; see
   * RedisInventoryStrategy.prepare). A shortfall that is only holds in flight (taken in the store,
   * not yet in SQL) costs a needless rebuild, never a wrong count. Any other difference (the store
   * high, per-user counts) is rebuilt when the same difference is seen on two consecutive calls, as
   * before. Returns rebuilds.
   */
  async repairInventoryDrift(): Promise<number> {
    const events: { id: string }[] = await this.ds.query(
      `SELECT id FROM ticketing_events WHERE starts_at_ms > $1 AND namespace = $2 ORDER BY starts_at_ms LIMIT 1000`,
      [this.clock.now() - 86_400_000, this.config.NAMESPACE],
    );
    const seen = new Map<string, string>();
    let n = 0;
    for (const e of events) {
      const drift = await this.inventoryDrift(e.id);
      if (drift === null) continue;
      if (await this.confirmedShortfall(e.id)) {
        this.log.warn(`event ${e.id}: hot inventory is short of SQL's free places (${drift}); rebuilding now`);
        await this.rebuildInventory(e.id);
        n++;
      } else if (this.lastDrift.get(e.id) === drift) {
        this.log.warn(`event ${e.id}: hot inventory disagrees with SQL (${drift}); rebuilding`);
        await this.rebuildInventory(e.id);
        n++;
      } else seen.set(e.id, drift);
    }
    this.lastDrift = seen;
    return n;
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
    const e = await this.eventRow(eventId);
    const [stock] = this.keys(eventId);
    if (e.kind === 'GA') {
      const kvFree = Number((await this.kv.get(stock)) ?? '0');
      const [{ n }]: { n: string }[] = await this.ds.query(
        `SELECT count(*) AS n FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`,
        [eventId],
      );
      return new Set(Number(n) > kvFree ? ['places'] : []);
    }
    const kvFree = new Set(await this.kv.sMembers(stock));
    const free: { seat_id: string }[] = await this.ds.query(
      `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`,
      [eventId],
    );
    return new Set(free.map((r) => r.seat_id).filter((id) => !kvFree.has(id)));
  }

  /** null when the event's hot inventory matches SQL (or is not built); else what differs. */
  async inventoryDrift(eventId: string): Promise<string | null> {
    const e = await this.eventRow(eventId);
    const [stock, users, ready] = this.keys(eventId);
    if ((await this.kv.get(ready)) === null) return null;
    const free: { seat_id: string }[] = await this.ds.query(
      `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`,
      [eventId],
    );
    const perUser: { user_id: string; n: string }[] = await this.ds.query(
      `SELECT h.user_id, count(*) AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id
       WHERE s.event_id = $1 GROUP BY h.user_id`,
      [eventId],
    );
    const problems: string[] = [];
    if (e.kind === 'GA') {
      const kvFree = Number((await this.kv.get(stock)) ?? '0');
      if (kvFree !== free.length) problems.push(`free ${kvFree}/${free.length}`);
    } else {
      const kvFree = new Set(await this.kv.sMembers(stock));
      const extra = free.filter((r) => !kvFree.has(r.seat_id)).length;
      if (extra > 0 || kvFree.size !== free.length) problems.push(`free ${kvFree.size}/${free.length} missing ${extra}`);
    }
    const kvUsers = await this.kv.hGetAll(users);
    const sqlUsers = new Map(perUser.map((r) => [r.user_id, Number(r.n)]));
    let wrong = 0;
    for (const [u, v] of Object.entries(kvUsers)) if ((sqlUsers.get(u) ?? 0) !== Number(v)) wrong++;
    for (const [u, v] of sqlUsers) if (kvUsers[u] === undefined && v !== 0) wrong++;
    if (wrong > 0) problems.push(`users ${wrong}`);
    return problems.length === 0 ? null : problems.join(', ');
  }

  /**
   * Writes the event's hot inventory from SQL. The ready marker goes last, so holds racing a
   * rebuild see `missing` and wait rather than deciding against half-written keys. A lock keeps
   * concurrent rebuilds of one event to one.
   */
  async rebuildInventory(eventId: string): Promise<void> {
    // The hold strategy owns its hot state (RedisInventoryStrategy.prepare rebuilds it from SQL).
    await this.inventory.prepare(eventId);
  }

  // ---------------------------------------------------------------- helpers

  keys(eventId: string): [string, string, string] {
    const p = eventKeyPrefix(this.config.NAMESPACE, eventId);
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
   * Runs `run` once per (scope, key) over the platform idempotency_keys table (see runIdempotent):
   * same body → the stored response, other body → 422, still running → 409 until the first attempt
   * is STALE_IN_FLIGHT_MS old, when a replay takes the key over and runs again with the first
   * attempt's `intent` (so `run` must answer from what that intent already committed).
   */
  idempotent<T>(scope: string, rawKey: string | undefined, request: unknown, intent: string, run: (intent: string) => Promise<T>): Promise<T> {
    return runIdempotent({ ds: this.ds, scope, key: requireKey(rawKey), request, intent, run, staleAfterMs: STALE_IN_FLIGHT_MS });
  }
}

function inventoryEvent(e: EventRow): InventoryEvent {
  const layout = e.sections as { sections?: InventoryEvent['sections'] };
  return { id: e.id, kind: e.kind, maxPerUser: e.max_per_user, ...(e.kind === 'SEATED' && layout.sections ? { sections: layout.sections } : {}) };
}

export function requireKey(key: string | undefined): string {
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

