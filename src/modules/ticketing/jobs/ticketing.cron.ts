import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { ReconciliationService } from '../application/reconciliation.service';
import { TicketingConfig } from '../ticketing.config';

/** Scheduler role: one reconciliation pass every 10 s (never two at once in a process). */
@Injectable()
export class TicketingCron {
  private readonly log = new Logger('ticketing-cron');
  private running = false;

  constructor(
    private readonly reconciliation: ReconciliationService,
    private readonly config: TicketingConfig,
  ) {}

  @Cron(CronExpression.EVERY_10_SECONDS, { name: 'ticketing-reconcile' })
  async reconcile(): Promise<void> {
    if (!this.config.hasRole('scheduler') || this.running) return;
    this.running = true;
    try {
      const done = await this.reconciliation.reconcileOnce();
      const total = Object.values(done).reduce((a, b) => a + b, 0);
      if (total > 0) this.log.log(`reconciled: ${JSON.stringify(done)}`);
    } catch (e) {
      this.log.warn(`reconcile failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
