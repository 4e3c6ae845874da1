import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { LeaderLease } from '../ports/leader-lease.port';
import { select } from './sql';

/** The leader lease in PostgreSQL: one row per namespace with holder + expiry, taken or renewed in one upsert. */
@Injectable()
export class SqlLeaderLease extends LeaderLease {
  readonly holder = randomUUID();
  private validUntil = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly config: GpuSchedulerConfig,
  ) {
    super();
  }

  async acquire(nowMs: number): Promise<boolean> {
    const ttlMs = this.config.GPU_LEASE_TTL_MS;
    const rows = await select<{ holder: string }>(
      this.ds,
      `INSERT INTO gpu_scheduler_lease AS l (namespace, holder, expires_at_ms) VALUES ($1, $2, $3)
       ON CONFLICT (namespace) DO UPDATE SET holder = EXCLUDED.holder, expires_at_ms = EXCLUDED.expires_at_ms
        WHERE l.holder = EXCLUDED.holder OR l.expires_at_ms < $4
       RETURNING holder`,
      [this.config.NAMESPACE, this.holder, nowMs + ttlMs, nowMs],
    );
    const held = rows.length === 1 && rows[0].holder === this.holder;
    // Trust the lease for a little less than its TTL measured from before the round trip.
    this.validUntil = held ? nowMs + ttlMs * 0.8 : 0;
    return held;
  }

  isHeld(nowMs: number): boolean {
    return nowMs < this.validUntil;
  }

  async release(): Promise<void> {
    this.validUntil = 0;
    await this.ds.query(`DELETE FROM gpu_scheduler_lease WHERE namespace = $1 AND holder = $2`, [this.config.NAMESPACE, this.holder]);
  }
}
