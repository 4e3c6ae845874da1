import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock';
import { STALE_IN_FLIGHT_MS } from '../../../platform/idempotency/sql-idempotency';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { requestFingerprint } from '../../../platform/idempotency/request-fingerprint';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { HoldView } from '../ticketing.types';
import { claimsLoadedKey, holdKeyClaim, LOAD_KEYS, SWAP_KEY } from './hold-idempotency-scripts';

const TTL_MS = 24 * 3_600_000;
/** A pending claim older than this belongs to a request that died (crash) or hung; SQL decides. */
const STALE_MS = STALE_IN_FLIGHT_MS;

/** Thrown by the hold path when SQL already has a hold under this Idempotency-Key. */
export class DuplicateHoldKey extends Error {}
/** Thrown by the hold path when the key is already claimed; `claim` is the stored claim. */
export class KeyClaimed extends Error {
  constructor(readonly claim: string) {
    super('idempotency key already claimed');
  }
}
/** Thrown by the hold path when the claims must be reloaded from SQL (after a Redis flush). */
export class ClaimsUnloaded extends Error {}

interface Claim {
  s: 'P' | 'C';
  h: string;
  t: number;
  id: string;
  r?: HoldView;
}

interface KeyedHoldRow {
  id: string;
  event_id: string;
  user_id: string;
  seat_ids: string[] | null;
  expires_at_ms: string;
  amount_cents: string;
  request_hash: string;
  idempotency_key: string;
  created_at_ms: string;
}

/**
 * Idempotency-Key handling of the Redis hold path without SQL round trips for losers:
 * - a claim per key in the key/value store (`P` pending with the hold id it will use, then `C`
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
    private readonly ds: DataSource,
    private readonly kv: KeyValueStore,
    private readonly clock: Clock,
    private readonly namespace: string,
  ) {}

  /**
   * `place` runs the hold with `claim` (a pending claim naming `holdId`): the Redis strategy writes
   * it atomically with its decision, or answers KeyClaimed / ClaimsUnloaded without deciding.
   */
  async run(
    eventId: string,
    key: string,
    request: unknown,
    holdId: string,
    place: (idem: { key: string; hash: string; claim: string }) => Promise<HoldView>,
  ): Promise<HoldView> {
    const hash = requestFingerprint(request);
    const claimKey = holdKeyClaim(this.namespace, eventId, key);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 5) throw new TicketingError('unavailable', C.InventoryBusy, 'idempotency claims are being reloaded; retry', { retryAfterSeconds: 1 });
      const mine = JSON.stringify({ s: 'P', h: hash, t: this.clock.now(), id: holdId } satisfies Claim);
      try {
        const view = await place({ key, hash, claim: mine });
        await this.complete(claimKey, mine, view);
        return view;
      } catch (err) {
        if (err instanceof ClaimsUnloaded) {
          await this.load(eventId);
          continue;
        }
        if (err instanceof DuplicateHoldKey) {
          const existing = await this.viewByKey(key);
          if (!existing) throw inProgress();
          if (existing.hash !== hash) throw reused();
          await this.complete(claimKey, mine, existing.view);
          return existing.view;
        }
        if (!(err instanceof KeyClaimed)) throw err;
        const prior = JSON.parse(err.claim) as Claim;
        if (prior.h !== hash) throw reused();
        if (prior.s === 'C' && prior.r) return prior.r;
        if (this.clock.now() - prior.t < STALE_MS) throw inProgress();
        // The first attempt is long gone (crash or hang): SQL says whether it committed.
        const committed = await this.viewById(prior.id);
        if (committed) {
          await this.complete(claimKey, err.claim, committed);
          return committed;
        }
        await this.kv.runScript(SWAP_KEY, [claimKey], [err.claim, '', 0]);
      }
    }
  }

  private async complete(claimKey: string, expected: string, view: HoldView): Promise<void> {
    const prior = JSON.parse(expected) as Claim;
    const done = JSON.stringify({ s: 'C', h: prior.h, t: prior.t, id: view.holdId, r: view } satisfies Claim);
    await this.kv.runScript(SWAP_KEY, [claimKey], [expected, done, TTL_MS]);
  }

  private loadedKey(eventId: string): string {
    return claimsLoadedKey(this.namespace, eventId);
  }

  /**
   * Reloads the claims of the event's recent keyed holds from SQL (one loader at a time; others
   * wait). Per event: claims live in the event's hash slot, beside the inventory they guard.
   */
  private async load(eventId: string): Promise<void> {
    const lock = `${this.loadedKey(eventId)}:lock`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: 60_000 }))) {
      for (let i = 0; i < 250 && (await this.kv.get(this.loadedKey(eventId))) === null; i++) await new Promise((r) => setTimeout(r, 20));
      return;
    }
    try {
      const since = this.clock.now() - TTL_MS;
      for (let after = '';;) {
        const rows: KeyedHoldRow[] = await this.ds.query(
          `SELECT * FROM ticketing_holds WHERE event_id = $3 AND idempotency_key IS NOT NULL AND created_at_ms > $1 AND id > $2 ORDER BY id LIMIT 1000`,
          [since, after, eventId],
        );
        if (rows.length === 0) break;
        const keys = rows.map((r) => holdKeyClaim(this.namespace, eventId, r.idempotency_key));
        const values = rows.map((r) =>
          JSON.stringify({ s: 'C', h: r.request_hash, t: Number(r.created_at_ms), id: r.id, r: toView(r) } satisfies Claim),
        );
        await this.kv.runScript(LOAD_KEYS, keys, [TTL_MS, ...values]);
        after = rows[rows.length - 1].id;
      }
      await this.kv.set(this.loadedKey(eventId), String(this.clock.now()));
    } finally {
      await this.kv.del([lock]);
    }
  }

  /** The answer a committed hold got, by its id (undefined: no such hold). */
  async viewById(holdId: string): Promise<HoldView | undefined> {
    const rows: KeyedHoldRow[] = await this.ds.query(`SELECT * FROM ticketing_holds WHERE id = $1`, [holdId]);
    return rows[0]?.seat_ids ? toView(rows[0]) : undefined;
  }

  private async viewByKey(key: string): Promise<{ hash: string; view: HoldView } | undefined> {
    const rows: KeyedHoldRow[] = await this.ds.query(`SELECT * FROM ticketing_holds WHERE idempotency_key = $1`, [key]);
    return rows[0]?.seat_ids ? { hash: rows[0].request_hash, view: toView(rows[0]) } : undefined;
  }
}

/** The answer the client got when the hold was placed, rebuilt from its row. */
function toView(r: KeyedHoldRow): HoldView {
  return {
    holdId: r.id,
    eventId: r.event_id,
    userId: r.user_id,
    seatIds: [...(r.seat_ids ?? [])],
    expiresAt: new Date(Number(r.expires_at_ms)).toISOString(),
    amount: Number(r.amount_cents) / 100,
  };
}

const reused = () => new TicketingError('unprocessable', C.IdempotencyKeyReused, 'this Idempotency-Key was used with a different request');
const inProgress = () =>
  new TicketingError('conflict', C.RequestInProgress, 'a request with this Idempotency-Key is still in progress', { retryAfterSeconds: 1 });
