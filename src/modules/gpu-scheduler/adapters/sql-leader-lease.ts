import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { select } from './sql-rows';

/**
 * A leader lease in PostgreSQL: one row per namespace with holder + expiry. `acquire` takes a free
 * or expired lease, or renews our own, in one upsert; it is called every cycle interval, so the
 * holder renews well before the TTL and a crashed leader is replaced after at most one TTL.
 * The lease only decides who normally runs cycles; correctness never depends on it (binding is
 * guarded by versions), so a paused leader overlapping its successor is harmless.
 */
export class LeaderLease {
  readonly holder = randomUUID();
  private validUntil = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly ns: string,
    private readonly ttlMs: number,
  ) {}

  async acquire(nowMs: number): Promise<boolean> {
    const rows = await select<{ holder: string }>(
      this.ds,
      `INSERT INTO gpu_scheduler_lease AS l (namespace, holder, expires_at_ms) VALUES ($1, $2, $3)
       ON CONFLICT (namespace) DO UPDATE SET holder = EXCLUDED.holder, expires_at_ms = EXCLUDED.expires_at_ms
        WHERE l.holder = EXCLUDED.holder OR l.expires_at_ms < $4
       RETURNING holder`,
      [this.ns, this.holder, nowMs + this.ttlMs, nowMs],
    );
    const held = rows.length === 1 && rows[0].holder === this.holder;
    // Trust the lease for a little less than its TTL measured from before the round trip.
    this.validUntil = held ? nowMs + this.ttlMs * 0.8 : 0;
    return held;
  }

  isHeld(nowMs: number): boolean {
    return nowMs < this.validUntil;
  }

  async release(): Promise<void> {
    this.validUntil = 0;
    await this.ds.query(`DELETE FROM gpu_scheduler_lease WHERE namespace = $1 AND holder = $2`, [this.ns, this.holder]);
  }
}
