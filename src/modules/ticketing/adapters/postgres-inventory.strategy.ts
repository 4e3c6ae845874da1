import { DataSource } from 'typeorm';
import { IdempotencyStore, STALE_IN_FLIGHT_MS } from '../../../platform/idempotency/idempotency-store';
import { HoldRepository } from '../ports/hold-repository.port';
import { HotInventory } from '../ports/hot-inventory.port';
import { HoldDecision, HoldRequest, HotSnapshot, InventoryEvent, InventoryStrategy } from '../ports/inventory-strategy.port';
import { HoldView } from '../ticketing.types';
import { writeHold } from './sql-hold-repository';

/**
 * PostgreSQL row locks alone: every hold is one transaction.
 *  1. `pg_advisory_xact_lock(event/user)` serialises one user's holds on one event, so the
 *     per-user count read next cannot be raced (a lock on the virtual row "this user's places";
 *     there is no user table to lock a real row of).
 *  2. The places are locked: GA picks free rows with `FOR UPDATE SKIP LOCKED` (concurrent buyers
 *     take different rows instead of queueing on the same ones); seated locks the asked seats by
 *     primary key `FOR UPDATE`, in seat order so two buyers can never deadlock.
 *  3. The same guarded statement as the Redis path moves them to HELD and inserts the hold.
 * Every loser costs a transaction here, which is what the Redis strategy avoids (see the bench).
 * Holds do not touch the key/value store; on its first hold per event this process deletes the
 * event's Redis ready marker so a later switch back to `redis` rebuilds the hot inventory from SQL.
 */
class DuplicateKeyRollback extends Error {}

export class PostgresInventoryStrategy extends InventoryStrategy {
  private readonly invalidated = new Set<string>();

  constructor(
    private readonly ds: DataSource,
    private readonly holds: HoldRepository,
    private readonly idempotency: IdempotencyStore,
    private readonly hot: HotInventory,
  ) {
    super();
  }

  /**
   * Keys in the platform idempotency_keys table (scope `ticketing:hold`), so no key/value store is
   * on this path. A takeover of a stale key reuses the crashed attempt's hold id: answered from its
   * hold if that committed.
   */
  once(_eventId: string, key: string, request: unknown, holdId: string, place: (holdId: string) => Promise<HoldView>): Promise<HoldView> {
    const run = async (id: string) => (id !== holdId && (await this.holds.keyed({ holdId: id }))?.view) || place(id);
    return this.idempotency.run({ scope: 'ticketing:hold', key, request, intent: holdId, run, staleAfterMs: STALE_IN_FLIGHT_MS });
  }

  async hold(e: InventoryEvent, req: HoldRequest): Promise<HoldDecision> {
    await this.prepare(e.id);
    try {
      return await this.decide(e, req);
    } catch (err) {
      if (err instanceof DuplicateKeyRollback) return { outcome: 'duplicate_key' };
      throw err;
    }
  }

  private decide(e: InventoryEvent, req: HoldRequest): Promise<HoldDecision> {
    return this.ds.transaction(async (m): Promise<HoldDecision> => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`ticketing/${e.id}/${req.userId}`]);
      const mine: { n: number }[] = await m.query(
        `SELECT count(*)::int AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id
         WHERE h.event_id = $1 AND h.user_id = $2`,
        [e.id, req.userId],
      );
      const held = Number(mine[0]?.n ?? 0);
      if (held + req.quantity > e.maxPerUser) return { outcome: 'limit', alreadyHeld: held };

      let seatIds: string[];
      if (e.kind === 'GA') {
        const free: { seat_id: string }[] = await m.query(
          `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE'
           ORDER BY seat_id LIMIT $2::int FOR UPDATE SKIP LOCKED`,
          [e.id, req.quantity],
        );
        if (free.length < req.quantity) return { outcome: 'sold_out', available: free.length };
        seatIds = free.map((r) => r.seat_id);
      } else {
        const rows: { seat_id: string; status: string }[] = await m.query(
          `SELECT seat_id, status FROM ticketing_seats WHERE event_id = $1 AND seat_id = ANY($2::text[])
           ORDER BY seat_id FOR UPDATE`,
          [e.id, req.seatIds],
        );
        const found = new Set(rows.map((r) => r.seat_id));
        const unknown = req.seatIds.filter((s) => !found.has(s));
        if (unknown.length > 0) return { outcome: 'unknown_seats', seatIds: unknown };
        const taken = rows.filter((r) => r.status !== 'AVAILABLE').map((r) => r.seat_id);
        if (taken.length > 0) return { outcome: 'seat_unavailable', seatIds: taken };
        seatIds = req.seatIds;
      }
      // The rows are locked by this transaction, so the guarded write cannot come up short.
      const written = await writeHold(m, e.id, 'seated', { ...req, seatIds });
      if (!written.ok && written.reason === 'duplicate_key') throw new DuplicateKeyRollback(); // the failed statement aborted the transaction
      if (!written.ok) throw new Error(`postgres hold write came up short while holding the row locks`);
      return { outcome: 'held', seats: written.seats };
    });
  }

  async giveBack(): Promise<void> {
    // SQL already freed the places; there is no hot state to update.
  }

  async isPrepared(): Promise<boolean> {
    return true;
  }

  async snapshot(): Promise<HotSnapshot | null> {
    return null;
  }

  async prepare(eventId: string): Promise<void> {
    if (this.invalidated.has(eventId)) return;
    await this.hot.forget(eventId);
    if (this.invalidated.size >= 10_000) this.invalidated.clear();
    this.invalidated.add(eventId);
  }
}
