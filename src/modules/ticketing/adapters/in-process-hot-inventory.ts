import { commitRebuild, decideHold, HotDecision, HotEventState, releasePlaces } from '../domain/hot-inventory';
import { HotInventory, KeyClaim } from '../ports/hot-inventory.port';
import { HotSnapshot, InventoryEvent } from '../ports/inventory-strategy.port';

interface EventState extends HotEventState {
  rebuilding: boolean;
  claims: Map<string, { value: string; expiresAtMs: number }>;
  claimsLoaded: boolean;
  claimsLoading: boolean;
}

/**
 * The hot inventory of the embedded profile: plain state in this process, changed only by the
 * domain functions, each call synchronous (so atomic: nothing interleaves). Nothing is journaled:
 * after a restart every event starts not ready and without claims, so the first hold rebuilds
 * from SQL and reloads the claims from the hold rows, as after a Redis flush.
 */
export class InProcessHotInventory extends HotInventory {
  private readonly events = new Map<string, EventState>();

  constructor(private readonly now: () => number) {
    super();
  }

  private state(eventId: string): EventState {
    let s = this.events.get(eventId);
    if (!s) this.events.set(eventId, (s = { free: 0, users: new Map(), ready: false, released: null, rebuilding: false, claims: new Map(), claimsLoaded: false, claimsLoading: false }));
    return s;
  }

  private liveClaim(s: EventState, key: string): string | null {
    const c = s.claims.get(key);
    if (c && c.expiresAtMs <= this.now()) s.claims.delete(key);
    return c && c.expiresAtMs > this.now() ? c.value : null;
  }

  async tryHold(e: InventoryEvent, userId: string, quantity: number, seatIds: string[], claim?: KeyClaim): Promise<HotDecision> {
    const s = this.state(e.id);
    if (claim) {
      if (!s.claimsLoaded) return { outcome: 'unloaded' };
      const prior = this.liveClaim(s, claim.key);
      if (prior !== null) return { outcome: 'claimed', claim: prior };
    }
    const d = decideHold(s, userId, e.maxPerUser, quantity, seatIds);
    if (d.outcome === 'ok' && claim) s.claims.set(claim.key, { value: claim.value, expiresAtMs: this.now() + claim.ttlMs });
    return d;
  }

  async release(e: InventoryEvent, userId: string, quantity: number, seatIds: string[]): Promise<void> {
    releasePlaces(this.state(e.id), userId, quantity, seatIds);
  }

  async isReady(eventId: string): Promise<boolean> {
    return this.state(eventId).ready;
  }

  async beginRebuild(eventId: string): Promise<number | null> {
    const s = this.state(eventId);
    if (s.rebuilding) return null;
    s.rebuilding = true;
    s.ready = false;
    s.released = [];
    return 0;
  }

  async commitRebuild(e: InventoryEvent, since: number, free: number | string[], perUser: Map<string, number>): Promise<void> {
    commitRebuild(this.state(e.id), free, perUser, since);
  }

  async endRebuild(eventId: string): Promise<void> {
    this.state(eventId).rebuilding = false;
  }

  async snapshot(e: InventoryEvent): Promise<HotSnapshot> {
    const s = this.state(e.id);
    return { ready: s.ready, free: typeof s.free === 'number' ? s.free : [...s.free], users: Object.fromEntries(s.users) };
  }

  async forget(eventId: string): Promise<void> {
    this.state(eventId).ready = false;
  }

  async claim(eventId: string, key: string): Promise<string | null> {
    return this.liveClaim(this.state(eventId), key);
  }

  async swapClaim(eventId: string, key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    const s = this.state(eventId);
    if (this.liveClaim(s, key) !== expected) return false;
    if (next === '') s.claims.delete(key);
    else s.claims.set(key, { value: next, expiresAtMs: this.now() + ttlMs });
    return true;
  }

  async beginClaimsLoad(eventId: string): Promise<boolean> {
    const s = this.state(eventId);
    if (s.claimsLoading) return false;
    s.claimsLoading = true;
    return true;
  }

  async loadClaims(eventId: string, claims: [string, string][], ttlMs: number): Promise<void> {
    const s = this.state(eventId);
    for (const [key, value] of claims) if (this.liveClaim(s, key) === null) s.claims.set(key, { value, expiresAtMs: this.now() + ttlMs });
  }

  async endClaimsLoad(eventId: string, complete: boolean): Promise<void> {
    const s = this.state(eventId);
    s.claimsLoading = false;
    s.claimsLoaded ||= complete;
  }

  async claimsLoaded(eventId: string): Promise<boolean> {
    return this.state(eventId).claimsLoaded;
  }
}
