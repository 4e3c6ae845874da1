import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { REBUILD_COMMIT, RELEASE, TRY_HOLD } from './inventory-scripts';
import { claimsLoadedKey, eventKeyPrefix, holdKeyClaim, SWAP_KEY, TRY_HOLD_KEYED } from './hold-idempotency-scripts';
import { HoldDecision, HoldRequest, InventoryEvent, InventoryStrategy, seatInLayout } from '../ports/inventory-strategy.port';
import { writeHold } from './sql-hold-writer';

/**
 * Hot inventory in the key/value store (Redis in production): one atomic script checks the
 * per-user limit and takes the places, so a burst is decided without SQL for the losers; each
 * winner is then written to SQL in one statement. If SQL refuses (it is the source of truth), the
 * places go back to the store. A crash between the script and the SQL write leaves the store one
 * place short (never oversold); the reconciliation rebuild from SQL repairs it.
 */
/** Idempotency-Key claims live as long as the platform's idempotency keys. */
export const CLAIM_TTL_MS = 24 * 3_600_000;

export class RedisInventoryStrategy extends InventoryStrategy {
  readonly name = 'redis' as const;

  constructor(
    private readonly ds: DataSource,
    private readonly kv: KeyValueStore,
    private readonly clock: Clock,
    private readonly namespace: string,
  ) {
    super();
  }

  async hold(e: InventoryEvent, req: HoldRequest): Promise<HoldDecision> {
    const mode = e.kind === 'GA' ? 'ga' : 'seated';
    const keys = this.keys(e.id);
    const claim = req.idempotency?.claim;
    const claimKey = req.idempotency ? holdKeyClaim(this.namespace, e.id, req.idempotency.key) : '';
    const decide = () =>
      claim !== undefined
        ? this.kv.runScript(TRY_HOLD_KEYED, [...keys, claimKey, claimsLoadedKey(this.namespace, e.id)], [
            mode, req.userId, e.maxPerUser, req.quantity, claim, CLAIM_TTL_MS, ...req.seatIds,
          ])
        : this.kv.runScript(TRY_HOLD, keys, [mode, req.userId, e.maxPerUser, req.quantity, ...req.seatIds]);
    let reply = await decide();
    if (reply[0] === 'missing') {
      await this.prepare(e.id);
      reply = await decide();
    }
    switch (reply[0]) {
      case 'ok':
        break;
      case 'missing':
        return { outcome: 'busy' };
      case 'unloaded':
        return { outcome: 'keys_unloaded' };
      case 'claimed':
        return { outcome: 'key_claimed', claim: reply[1] };
      case 'limit':
        return { outcome: 'limit', alreadyHeld: Number(reply[1]) };
      case 'sold_out':
        return { outcome: 'sold_out', available: Number(reply[1]) };
      case 'seat_unavailable':
        return this.unavailable(e, reply.slice(1));
      default:
        throw new Error(`unexpected inventory reply ${reply.join(',')}`);
    }
    // Undo of the script when SQL does not take the hold: the places go back, and the key's claim
    // is dropped so the client may retry (except for duplicate_key, whose claim the caller completes
    // with the hold SQL already has).
    const undo = async (keepClaim: boolean) => {
      await this.kv.runScript(RELEASE, [...keys, this.releaseLog(e.id)], [mode, req.userId, req.quantity, ...req.seatIds]);
      if (claim !== undefined && !keepClaim) await this.kv.runScript(SWAP_KEY, [claimKey], [claim, '', 0]);
    };
    let written;
    try {
      written = await writeHold(this.ds, e.id, mode, req);
    } catch (err) {
      await undo(false);
      throw err;
    }
    if (written.ok) return { outcome: 'held', seats: written.seats };
    await undo(written.reason === 'duplicate_key');
    if (written.reason === 'duplicate_key') return { outcome: 'duplicate_key' };
    // The hot inventory said yes but SQL says no: SQL is the source of truth.
    return mode === 'ga' ? { outcome: 'sold_out', available: 0 } : { outcome: 'seat_unavailable', seatIds: req.seatIds };
  }

  /** Seats missing from the free set are either taken or not seats of the event; SQL tells which. */
  private async unavailable(e: InventoryEvent, asked: string[]): Promise<HoldDecision> {
    if (e.sections) {
      // The layout answers without a query: a flash sale's thousands of losers never reach SQL.
      const unknown = asked.filter((s) => !seatInLayout(e.sections!, s));
      return unknown.length > 0 ? { outcome: 'unknown_seats', seatIds: unknown } : { outcome: 'seat_unavailable', seatIds: asked };
    }
    const eventId = e.id;
    const known: { seat_id: string }[] = await this.ds.query(
      `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND seat_id = ANY($2::text[])`,
      [eventId, asked],
    );
    const knownIds = new Set(known.map((r) => r.seat_id));
    const unknown = asked.filter((s) => !knownIds.has(s));
    return unknown.length > 0 ? { outcome: 'unknown_seats', seatIds: unknown } : { outcome: 'seat_unavailable', seatIds: asked };
  }

  async giveBack(e: InventoryEvent, userId: string, seatIds: string[]): Promise<void> {
    if (seatIds.length === 0) return;
    const mode = e.kind === 'GA' ? 'ga' : 'seated';
    await this.kv.runScript(RELEASE, [...this.keys(e.id), this.releaseLog(e.id)], [mode, userId, seatIds.length, ...(mode === 'ga' ? [] : seatIds)]);
  }

  async isPrepared(eventId: string): Promise<boolean> {
    return (await this.kv.get(this.keys(eventId)[2])) !== null;
  }

  /**
   * Writes the event's hot inventory from SQL, safely while holds and releases run (issue 9: drift
   * was repaired only after two quiet passes, i.e. after the sale). Dropping the ready marker
   * freezes the event: holds answer `missing` and wait for this rebuild (the lock below), releases
   * are logged instead of applied. A hold decided before the freeze whose SQL write commits after
   * the read leaves the new count one hold high, never low; releases logged after the read began
   * are added back in the same atomic step that sets the ready marker (REBUILD_COMMIT), so one whose
   * SQL commit the read missed is not lost (added twice at worst: high, never low). High is safe:
   * the guarded SQL write refuses a place SQL does not have. A lock keeps concurrent rebuilds of
   * one event to one.
   */
  async prepare(eventId: string): Promise<void> {
    const [stock, users, ready] = this.keys(eventId);
    const log = this.releaseLog(eventId);
    const lock = `${ready}:lock`;
    if (!(await this.kv.set(lock, '1', { onlyIfAbsent: true, ttlMs: 10_000 }))) {
      for (let i = 0; i < 100 && (await this.kv.get(ready)) === null; i++) await new Promise((r) => setTimeout(r, 20));
      return;
    }
    try {
      const ev: { kind: string }[] = await this.ds.query(`SELECT kind FROM ticketing_events WHERE id = $1`, [eventId]);
      if (ev.length === 0) return;
      await this.kv.del([log]);
      await this.kv.hSet(log, { '#': 0 });
      await this.kv.pExpire(log, 60_000); // a rebuilder that dies leaves no log behind for long
      await this.kv.del([ready]);
      // Releases logged up to here ran before the read below, so their SQL commits are in it.
      const since = Number((await this.kv.hGet(log, '#')) ?? '0');
      const free: { seat_id: string }[] = await this.ds.query(
        `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'`,
        [eventId],
      );
      const perUser: { user_id: string; n: string }[] = await this.ds.query(
        `SELECT h.user_id, count(*) AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id
         WHERE s.event_id = $1 GROUP BY h.user_id`,
        [eventId],
      );
      const args: (string | number)[] = [ev[0].kind === 'GA' ? 'ga' : 'seated', String(this.clock.now()), since, perUser.length];
      for (const r of perUser) args.push(r.user_id, Number(r.n));
      if (ev[0].kind === 'GA') args.push(free.length);
      else for (const r of free) args.push(r.seat_id);
      await this.kv.runScript(REBUILD_COMMIT, [stock, users, ready, log], args);
    } finally {
      await this.kv.del([lock]);
    }
  }

  /** Drops the ready marker, so the next hold under this strategy rebuilds from SQL. */
  async forget(eventId: string): Promise<void> {
    await this.kv.del([this.keys(eventId)[2]]);
  }

  /** Releases that ran while a rebuild had the event frozen (RELEASE, REBUILD_COMMIT). */
  private releaseLog(eventId: string): string {
    return `${eventKeyPrefix(this.namespace, eventId)}:released`;
  }

  /** Same key layout as TicketingService.keys (its drift check reads them). */
  private keys(eventId: string): [string, string, string] {
    const p = eventKeyPrefix(this.namespace, eventId);
    return [`${p}:stock`, `${p}:users`, `${p}:ready`];
  }
}
