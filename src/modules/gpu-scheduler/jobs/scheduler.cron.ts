import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { CycleTrigger } from '../application/cycle-trigger';
import { SchedulerLoop } from '../application/scheduler-loop.service';

const INTERVAL_NAME = 'gpu-scheduler-cycle';

/**
 * Scheduler role only: kicks the loop on every in-process trigger (submit, report, node change) and
 * every GPU_CYCLE_INTERVAL_MS (a periodic run, with the housekeeping).
 */
@Injectable()
export class SchedulerCron implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    private readonly loop: SchedulerLoop,
    private readonly trigger: CycleTrigger,
    private readonly registry: SchedulerRegistry,
    private readonly config: GpuSchedulerConfig,
  ) {}

  private get enabled(): boolean {
    return this.config.hasRole('scheduler');
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.trigger.listen(() => this.loop.kick(false));
    const timer = setInterval(() => this.loop.kick(true), this.config.GPU_CYCLE_INTERVAL_MS);
    timer.unref();
    this.registry.addInterval(INTERVAL_NAME, timer);
    this.loop.kick(true);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.enabled) return;
    try {
      this.registry.deleteInterval(INTERVAL_NAME);
    } catch {
      /* already gone */
    }
    await this.loop.stop();
  }
}
