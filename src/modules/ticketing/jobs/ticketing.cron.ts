import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { AppConfig } from '../../../config/app-config';
import { TicketingOrders } from '../application/orders.service';
import { TicketingMetrics } from '../ticketing.metrics';
import { TicketingService } from '../ticketing.service';

/**
 * Scheduler role: the safety net behind the delayed jobs and the post-commit steps that a crash
 * can cut off. Every step is idempotent and scoped to this NAMESPACE's events.
 */
@Injectable()
export class TicketingCron {
  private readonly log = new Logger('ticketing-cron');
  private running = false;

  constructor(
    private readonly holds: TicketingService,
    private readonly orders: TicketingOrders,
    private readonly config: AppConfig,
    private readonly metrics: TicketingMetrics,
  ) {}

  @Cron(CronExpression.EVERY_10_SECONDS, { name: 'ticketing-reconcile' })
  async reconcile(): Promise<void> {
    if (!this.config.hasRole('scheduler') || this.running) return;
    this.running = true;
    try {
      const done = await this.reconcileOnce();
      const total = Object.values(done).reduce((a, b) => a + b, 0);
      if (total > 0) this.log.log(`reconciled: ${JSON.stringify(done)}`);
    } catch (e) {
      this.log.warn(`reconcile failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /** One pass; the counts say what each step repaired. */
  async reconcileOnce(): Promise<Record<string, number>> {
    const done = {
      expiredHolds: await this.holds.reconcileExpiredHolds(),
      expiredOrders: await this.orders.reconcileExpiredOrders(),
      voidsSettled: await this.orders.settleDueVoids(),
      requeuedPayments: await this.orders.requeueStalePayments(),
      rebuiltInventories: await this.holds.rebuildMissingInventories(),
      repairedInventories: await this.holds.repairInventoryDrift(),
    };
    for (const [step, n] of Object.entries(done)) if (n > 0) this.metrics.repairs.inc({ step }, n);
    return done;
  }
}
