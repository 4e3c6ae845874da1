import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { CycleTrigger } from './cycle-trigger';
import { LeaderLease } from '../adapters/sql-leader-lease';
import { SchedulerService } from './scheduler.service';
import { TaskEvents } from '../adapters/sql-task-outbox';

const INTERVAL_NAME = 'gpu-scheduler-cycle';

/**
 * Scheduler role only: runs a cycle on every trigger (submit, report, node change in this process)
 * and on a @nestjs/schedule interval (changes made by other processes, ack deadlines, heartbeat
 * timeouts, the outbox relay). Runs never overlap in one process; triggers during a run coalesce into
 * one more run. Only the holder of the leader lease runs cycles unless GPU_LEADER_LEASE=off.
 */
@Injectable()
export class SchedulerLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('gpu-scheduler-loop');
  private readonly lease: LeaderLease;
  private running: Promise<void> | undefined;
  private pending = false;
  private periodicDue = false;
  private stopped = false;

  constructor(
    private readonly scheduler: SchedulerService,
    private readonly events: TaskEvents,
    private readonly trigger: CycleTrigger,
    private readonly registry: SchedulerRegistry,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    ds: DataSource,
  ) {
    this.lease = new LeaderLease(ds, config.NAMESPACE, config.GPU_LEASE_TTL_MS);
  }

  get enabled(): boolean {
    return this.config.hasRole('scheduler');
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.trigger.listen(() => this.kick(false));
    const timer = setInterval(() => this.kick(true), this.config.GPU_CYCLE_INTERVAL_MS);
    timer.unref();
    this.registry.addInterval(INTERVAL_NAME, timer);
    this.kick(true);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.enabled) return;
    this.stopped = true;
    try {
      this.registry.deleteInterval(INTERVAL_NAME);
    } catch {
      /* already gone */
    }
    await this.running;
    if (this.config.GPU_LEADER_LEASE === 'on') await this.lease.release().catch(() => undefined);
  }

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
      void this.events.flush();
    }
    await this.scheduler.runCycle();
  }
}
