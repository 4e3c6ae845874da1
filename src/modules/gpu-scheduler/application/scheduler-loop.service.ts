import { Injectable, Logger } from '@nestjs/common';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { Clock } from '../../../platform/clock/clock';
import { LeaderLease } from '../ports/leader-lease.port';
import { Outbox } from '../../../platform/outbox/outbox';
import { SchedulerService } from './scheduler.service';

/**
 * Scheduler role only (driven by jobs/scheduler.cron.ts): a cycle on every kick — a submit, report
 * or node change in this process, and the periodic tick (changes made by other processes, ack
 * deadlines, heartbeat timeouts, the outbox relay). Runs never overlap in one process; kicks during
 * a run coalesce into one more run. Only the holder of the leader lease runs cycles unless
 * GPU_LEADER_LEASE=off.
 */
@Injectable()
export class SchedulerLoop {
  private readonly log = new Logger('gpu-scheduler-loop');
  private running: Promise<void> | undefined;
  private pending = false;
  private periodicDue = false;
  private stopped = false;

  constructor(
    private readonly scheduler: SchedulerService,
    private readonly outbox: Outbox,
    private readonly lease: LeaderLease,
    private readonly clock: Clock,
    private readonly config: GpuSchedulerConfig,
  ) {}

  /** Requests a run; `periodic` runs also do the housekeeping (lease renewal, expiries, relay). */
  kick(periodic: boolean): void {
    if (this.stopped) return;
    this.periodicDue ||= periodic;
    this.pending = true;
    if (!this.running) this.running = this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves when no run is in progress or pending (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more runs; waits for the current one and gives the lease up. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    if (this.config.GPU_LEADER_LEASE === 'on') await this.lease.release().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      const periodic = this.periodicDue;
      this.periodicDue = false;
      try {
        await this.once(periodic);
      } catch (e) {
        this.log.warn(`cycle failed: ${(e as Error).message}`);
      }
    }
  }

  private async once(periodic: boolean): Promise<void> {
    const now = this.clock.now();
    if (this.config.GPU_LEADER_LEASE === 'on') {
      const leader = periodic || !this.lease.isHeld(now) ? await this.lease.acquire(now) : true;
      if (!leader) return;
    }
    if (periodic) {
      await this.scheduler.expireSilentNodes();
      await this.scheduler.expireUnacknowledged();
      this.outbox.poke();
    }
    await this.scheduler.runCycle();
  }
}
