import { HoldView } from '../ticketing.types';
import { HoldRequest } from './inventory-strategy.port';

export interface HoldRecord {
  id: string;
  eventId: string;
  userId: string;
  status: string;
  expiresAtMs: number;
  amountCents: number;
}

/** A hold as its Idempotency-Key recorded it. */
export interface KeyedHold {
  view: HoldView;
  key: string;
  requestHash: string;
  createdAtMs: number;
}

export type WriteResult =
  | { ok: true; seats: { seatId: string; priceCents: number }[] }
  | { ok: false; reason: 'short' | 'duplicate_key' };

/** Holds in SQL: the hold rows and the seats they hold. */
export abstract class HoldRepository {
  /** Takes the places (GA: any free ones; seated: `req.seatIds`) and inserts the hold in one statement; all or nothing. */
  abstract write(eventId: string, mode: 'ga' | 'seated', req: HoldRequest): Promise<WriteResult>;
  abstract find(holdId: string): Promise<HoldRecord | undefined>;
  abstract seatIds(holdId: string): Promise<string[]>;
  /**
   * In one transaction: locks the hold, and when `decide` says so sets `status` and frees its HELD
   * seats. Undefined when there is no such hold; `freed` null when `decide` said no.
   */
  abstract end(holdId: string, status: string, decide: (h: HoldRecord) => boolean): Promise<{ hold: HoldRecord; freed: string[] | null } | undefined>;
  /** ACTIVE holds of this namespace's events whose expiry has passed, oldest first. */
  abstract overdue(nowMs: number, limit: number): Promise<string[]>;
  /** The answer a committed keyed hold got (undefined: no such hold or no key on it). */
  abstract keyed(by: { holdId: string } | { key: string }): Promise<KeyedHold | undefined>;
  /** Keyed holds of an event created after `sinceMs`, by id after `afterId`. */
  abstract keyedSince(eventId: string, sinceMs: number, afterId: string, limit: number): Promise<KeyedHold[]>;
}
