import { HotDecision } from '../domain/hot-inventory';
import { HotSnapshot, InventoryEvent } from './inventory-strategy.port';

/** A claim on an Idempotency-Key, written in the same atomic step that takes the places. */
export interface KeyClaim {
  key: string;
  value: string;
  ttlMs: number;
}

/**
 * One event's hot inventory (free places, places per user, the ready marker) and the
 * Idempotency-Key claims of its holds, each step atomic. Full profile: Redis, one Lua script per
 * step, shared by every API process. Embedded profile: in-process state changed by the domain
 * functions (domain/hot-inventory.ts), rebuilt from SQL after a restart.
 */
export abstract class HotInventory {
  /** Decides a hold; with `claim`: answers from an existing claim instead, and writes it when the places are taken. */
  abstract tryHold(e: InventoryEvent, userId: string, quantity: number, seatIds: string[], claim?: KeyClaim): Promise<HotDecision>;
  /** Gives places back (see releasePlaces). */
  abstract release(e: InventoryEvent, userId: string, quantity: number, seatIds: string[]): Promise<void>;
  abstract isReady(eventId: string): Promise<boolean>;
  /**
   * Starts a rebuild unless one runs (then null): the event is frozen (not ready; releases are
   * logged). Returns the log position that the SQL read about to start will include.
   */
  abstract beginRebuild(eventId: string): Promise<number | null>;
  /** Writes what SQL has (plus the releases logged after `since`) and makes the event ready. */
  abstract commitRebuild(e: InventoryEvent, since: number, free: number | string[], perUser: Map<string, number>): Promise<void>;
  /** Lets the next rebuild start (after commitRebuild, or when the rebuild failed). */
  abstract endRebuild(eventId: string): Promise<void>;
  abstract snapshot(e: InventoryEvent): Promise<HotSnapshot>;
  /** Drops the ready marker, so the next hold rebuilds from SQL. */
  abstract forget(eventId: string): Promise<void>;

  abstract claim(eventId: string, key: string): Promise<string | null>;
  /** Compare-and-set of a claim: `next` '' deletes it. True when swapped. */
  abstract swapClaim(eventId: string, key: string, expected: string, next: string, ttlMs: number): Promise<boolean>;
  /** Starts reloading the event's claims unless another process does (then false). */
  abstract beginClaimsLoad(eventId: string): Promise<boolean>;
  /** Adds claims unless present (a live claim wins). */
  abstract loadClaims(eventId: string, claims: [key: string, value: string][], ttlMs: number): Promise<void>;
  /** Ends a reload; `complete`: every claim is present now, so keyed holds may be decided again. */
  abstract endClaimsLoad(eventId: string, complete: boolean): Promise<void>;
  abstract claimsLoaded(eventId: string): Promise<boolean>;
}
