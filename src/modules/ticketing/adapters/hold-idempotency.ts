import { Clock } from '../../../platform/clock/clock';
import { STALE_IN_FLIGHT_MS } from '../../../platform/idempotency/idempotency-store';
import { IdempotencyKeyReused, RequestInProgress } from '../../../platform/idempotency/idempotency.errors';
import { requestFingerprint } from '../../../platform/idempotency/request-fingerprint';
import { HoldRepository } from '../ports/hold-repository.port';
import { HotInventory } from '../ports/hot-inventory.port';
import { HoldKey, KeyOutcome } from '../ports/inventory-strategy.port';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { HoldView } from '../ticketing.types';

/** Claims live as long as the platform's idempotency keys. */
export const CLAIM_TTL_MS = 24 * 3_600_000;

interface Claim {
  s: 'P' | 'C';
  h: string;
  t: number;
  id: string;
  r?: HoldView;
}

/**
 * Idempotency-Key handling of the hot-inventory hold path without SQL round trips for losers:
 * - a claim per key beside the hot inventory (`P` pending with the hold id it will use, then `C`
 *   completed with the answer) decides replays: same body → the first answer, other body → 422,
 *   still running → 409; a failed attempt deletes its claim so the client may retry;
 * - the durable record is the hold row itself (idempotency_key, request_hash, seat_ids), written in
 *   the same statement that takes the places, under a unique index: even with every claim lost a
 *   key can never get a second hold;
 * - crash after the SQL commit but before the claim completes: the claim stays `P`; after 30 s a
 *   replay looks the hold id up in SQL and answers from it;
 * - Redis flush: the `loaded` sentinel is gone, so the next hold reloads the claims of the last
 *   24 h of keyed holds from SQL before answering anything (a loser's replay must not turn a
 *   won hold into a 409).
 * Unlike the idempotency_keys table (24 h), a key that won a hold stays bound to it in SQL.
 */
export class HoldIdempotency {
  constructor(
    private readonly holds: HoldRepository,
    private readonly hot: HotInventory,
    private readonly clock: Clock,
  ) {}

  /**
   * `place` runs the hold with a pending claim naming `holdId`: the strategy writes it atomically
   * with its decision, or answers (KeyOutcome) that the key is claimed or the claims are unloaded.
   */
  async run(eventId: string, key: string, request: unknown, holdId: string, place: (holdId: string, idem: HoldKey) => Promise<HoldView>): Promise<HoldView> {
    const hash = requestFingerprint(request);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 5) throw new TicketingError('unavailable', C.InventoryBusy, 'idempotency claims are being reloaded; retry', { retryAfterSeconds: 1 });
      const mine = JSON.stringify({ s: 'P', h: hash, t: this.clock.now(), id: holdId } satisfies Claim);
      try {
        const view = await place(holdId, { key, hash, claim: mine });
        await this.complete(eventId, key, mine, view);
        return view;
      } catch (err) {
        if (!(err instanceof KeyOutcome)) throw err;
        const d = err.decision;
        if (d.outcome === 'keys_unloaded') {
          await this.load(eventId);
          continue;
        }
        if (d.outcome === 'duplicate_key') {
          const existing = await this.holds.keyed({ key });
          if (!existing) throw new RequestInProgress();
          if (existing.requestHash !== hash) throw new IdempotencyKeyReused();
          await this.complete(eventId, key, mine, existing.view);
          return existing.view;
        }
        if (d.outcome !== 'key_claimed') throw err;
        const prior = JSON.parse(d.claim) as Claim;
        if (prior.h !== hash) throw new IdempotencyKeyReused();
        if (prior.s === 'C' && prior.r) return prior.r;
        if (this.clock.now() - prior.t < STALE_IN_FLIGHT_MS) throw new RequestInProgress();
        // The first attempt is long gone (crash or hang): SQL says whether it committed.
        const committed = (await this.holds.keyed({ holdId: prior.id }))?.view;
        if (committed) {
          await this.complete(eventId, key, d.claim, committed);
          return committed;
        }
        await this.hot.swapClaim(eventId, key, d.claim, '', 0);
      }
    }
  }

  private async complete(eventId: string, key: string, expected: string, view: HoldView): Promise<void> {
    const prior = JSON.parse(expected) as Claim;
    const done = JSON.stringify({ s: 'C', h: prior.h, t: prior.t, id: view.holdId, r: view } satisfies Claim);
    await this.hot.swapClaim(eventId, key, expected, done, CLAIM_TTL_MS);
  }

  /**
   * Reloads the claims of the event's recent keyed holds from SQL (one loader at a time; others
   * wait). Per event: claims live in the event's hash slot, beside the inventory they guard.
   */
  private async load(eventId: string): Promise<void> {
    if (!(await this.hot.beginClaimsLoad(eventId))) {
      for (let i = 0; i < 250 && !(await this.hot.claimsLoaded(eventId)); i++) await new Promise((r) => setTimeout(r, 20));
      return;
    }
    let complete = false;
    try {
      const since = this.clock.now() - CLAIM_TTL_MS;
      for (let after = ''; ; ) {
        const rows = await this.holds.keyedSince(eventId, since, after, 1000);
        if (rows.length === 0) break;
        const claims = rows.map((r): [string, string] => [r.key, JSON.stringify({ s: 'C', h: r.requestHash, t: r.createdAtMs, id: r.view.holdId, r: r.view } satisfies Claim)]);
        await this.hot.loadClaims(eventId, claims, CLAIM_TTL_MS);
        after = rows[rows.length - 1].view.holdId;
      }
      complete = true;
    } finally {
      await this.hot.endClaimsLoad(eventId, complete);
    }
  }
}
