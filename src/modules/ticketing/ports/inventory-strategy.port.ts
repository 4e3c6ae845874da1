import { HoldView } from '../ticketing.types';

/**
 * How a hold is decided and written. Two implementations behind one contract
 * (test/contract/ticketing-inventory.test.ts), chosen by TICKETING_HOLD_STRATEGY:
 * - `redis` (default): the hot inventory in the key/value store decides in one atomic script, so
 *   losers of a flash sale never reach SQL; winners are written to SQL in one guarded statement.
 * - `postgres`: PostgreSQL row locks alone, one transaction per hold (the comparison baseline, and a
 *   deployment without Redis in the hold path).
 * Both keep the same invariants: available + held + sold = capacity, no seat held twice, at most
 * maxPerUser places per user; SQL's guarded transitions and keys are the final word in both.
 */
export interface InventoryEvent {
  id: string;
  kind: 'GA' | 'SEATED';
  maxPerUser: number;
  /** Seated layout, when known: tells unknown seat ids from taken ones without asking SQL. */
  sections?: { name: string; rows: number; seatsPerRow: number }[];
}

export interface HoldRequest {
  holdId: string;
  userId: string;
  quantity: number;
  /** Seated events: the asked seats (distinct); GA: empty. */
  seatIds: string[];
  nowMs: number;
  expiresAtMs: number;
  /**
   * Recorded on the hold row; a second hold under one key is refused (`duplicate_key`). `claim`
   * (Redis strategy) is written to the key/value store atomically with the decision.
   */
  idempotency?: { key: string; hash: string; claim?: string };
}

export type HoldDecision =
  | { outcome: 'held'; seats: { seatId: string; priceCents: number }[] }
  | { outcome: 'limit'; alreadyHeld: number }
  | { outcome: 'sold_out'; available: number }
  /** Asked seats that are not free; the caller tells unknown seats from taken ones. */
  | { outcome: 'seat_unavailable'; seatIds: string[] }
  /** Seated: asked seats that do not exist in the event. */
  | { outcome: 'unknown_seats'; seatIds: string[] }
  /** The hot inventory is being rebuilt; retry shortly. */
  | { outcome: 'busy' }
  /** The idempotency key already has a hold in SQL (its places were given back). */
  | { outcome: 'duplicate_key' }
  /** Redis strategy: the key is already claimed (a replay or a request in flight); nothing decided. */
  | { outcome: 'key_claimed'; claim: string }
  /** Redis strategy: the key claims were lost (Redis flush) and must be reloaded from SQL first. */
  | { outcome: 'keys_unloaded' };

/** The event's hot state as the store has it (drift checks compare it with SQL). */
export interface HotSnapshot {
  /** False while the state is not (yet, or any more) built: holds then wait for a rebuild. */
  ready: boolean;
  /** GA: the free count; seated: the free seat ids. */
  free: number | string[];
  /** Places per user (held or bought). */
  users: Record<string, number>;
}

/** What a hold records of its Idempotency-Key (see InventoryStrategy.once). */
export type HoldKey = NonNullable<HoldRequest['idempotency']>;

/** Thrown out of `place` for a decision about the Idempotency-Key itself; the strategy's `once` answers it. */
export class KeyOutcome extends Error {
  constructor(readonly decision: HoldDecision) {
    super(`idempotency key: ${decision.outcome}`);
  }
}

export abstract class InventoryStrategy {
  /**
   * Runs `place` once per Idempotency-Key of an event: the same request again answers the first
   * hold, another request under the key is 422, one still in flight 409 (taken over after
   * STALE_IN_FLIGHT_MS, with `place` called under the first attempt's hold id).
   */
  abstract once(eventId: string, key: string, request: unknown, holdId: string, place: (holdId: string, key?: HoldKey) => Promise<HoldView>): Promise<HoldView>;
  /** Decides and writes one hold. Never leaves places taken when the answer is not `held`. */
  abstract hold(event: InventoryEvent, req: HoldRequest): Promise<HoldDecision>;
  /** Called after SQL has freed `seatIds` of `userId` (release, expiry, failed payment). */
  abstract giveBack(event: InventoryEvent, userId: string, seatIds: string[]): Promise<void>;
  /** Makes the event ready for holds (after creation, or when hot state was lost). */
  abstract prepare(eventId: string): Promise<void>;
  /** False when the event's hot state is gone and prepare() should run (reconciliation). */
  abstract isPrepared(eventId: string): Promise<boolean>;
  /** The event's hot state; null when the strategy keeps none. */
  abstract snapshot(event: InventoryEvent): Promise<HotSnapshot | null>;
}
