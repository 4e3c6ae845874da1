/**
 * The hot inventory of one event, decided in one atomic step per request. These functions are the
 * rules in TypeScript (the in-process adapter runs them on its own state); the Redis adapter runs
 * the same rules as Lua (adapters/redis-hot-inventory.ts), and one contract suite checks both.
 */
export interface HotEventState {
  /** GA: the free count; seated: the free seat ids. */
  free: number | Set<string>;
  /** Places each user holds or bought. */
  users: Map<string, number>;
  /** Cleared while a rebuild runs and until the first one: holds answer `missing` then. */
  ready: boolean;
  /** While a rebuild runs: the releases seen since it began, in order. */
  released: { quantity: number; seatIds: string[] }[] | null;
}

export type HotDecision =
  | { outcome: 'ok' }
  | { outcome: 'missing' }
  | { outcome: 'limit'; held: number }
  | { outcome: 'sold_out'; available: number }
  | { outcome: 'seat_unavailable'; seatIds: string[] }
  /** Keyed holds: the key's claims must be reloaded first (they were lost). */
  | { outcome: 'unloaded' }
  /** Keyed holds: the key is claimed already (a replay, or a request still in flight). */
  | { outcome: 'claimed'; claim: string };

/** Per-user limit, then the places (GA: a count; seated: every asked seat, all or nothing). */
export function decideHold(s: HotEventState, userId: string, maxPerUser: number, quantity: number, seatIds: string[]): HotDecision {
  if (!s.ready) return { outcome: 'missing' };
  const held = s.users.get(userId) ?? 0;
  if (held + quantity > maxPerUser) return { outcome: 'limit', held };
  if (typeof s.free === 'number') {
    if (s.free < quantity) return { outcome: 'sold_out', available: s.free };
    s.free -= quantity;
  } else {
    const free = s.free;
    const taken = seatIds.filter((id) => !free.has(id));
    if (taken.length > 0) return { outcome: 'seat_unavailable', seatIds: taken };
    for (const id of seatIds) free.delete(id);
  }
  s.users.set(userId, held + quantity);
  return { outcome: 'ok' };
}

/**
 * Gives places back (release, expiry, failed payment, or a hold SQL refused). Without the ready
 * marker nothing changes, but while a rebuild runs the places are logged, so the rebuild can add
 * back a release whose SQL commit its read may have missed.
 */
export function releasePlaces(s: HotEventState, userId: string, quantity: number, seatIds: string[]): void {
  if (!s.ready) {
    s.released?.push({ quantity, seatIds });
    return;
  }
  if (typeof s.free === 'number') s.free += quantity;
  else for (const id of seatIds) s.free.add(id);
  const left = (s.users.get(userId) ?? 0) - quantity;
  if (left <= 0) s.users.delete(userId);
  else s.users.set(userId, left);
}

/**
 * Ends a rebuild: the state read from SQL, plus the releases logged after entry `since` (their SQL
 * commit may have come after the read: adding them can only over-count, which SQL's guarded write
 * absorbs, never under-count and turn buyers away); ready again.
 */
export function commitRebuild(s: HotEventState, free: number | string[], perUser: Map<string, number>, since: number): void {
  s.free = typeof free === 'number' ? free : new Set(free);
  s.users = new Map(perUser);
  for (const r of (s.released ?? []).slice(since)) {
    if (typeof s.free === 'number') s.free += r.quantity;
    else for (const id of r.seatIds) s.free.add(id);
  }
  s.released = null;
  s.ready = true;
}
