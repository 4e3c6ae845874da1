import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { AppConfig } from '../../config/app-config';
import { TicketingService } from './ticketing.service';

/** Scheduler role: the safety net behind the delayed expiry jobs, and inventory rebuilds. */
@Injectable()
export class TicketingCron {
  private readonly log = new Logger('ticketing-cron');
  private running = false;

  constructor(
    private readonly sut: TicketingService,
    private readonly config: AppConfig,
  ) {}

  @Cron(CronExpression.EVERY_10_SECONDS, { name: 'ticketing-reconcile' })
  async reconcile(): Promise<void> {
    if (!this.config.hasRole('scheduler') || this.running) return;
    this.running = true;
    try {
      const expired = await this.sut.reconcileExpiredHolds();
      const rebuilt = await this.sut.rebuildMissingInventories();
      const requeued = await this.sut.requeueStalePayments();
      if (expired + rebuilt + requeued > 0) {
        this.log.log(`released ${expired} expired hold(s), rebuilt ${rebuilt} inventory(ies), requeued ${requeued} payment(s)`);
      }
    } catch (e) {
      this.log.warn(`reconcile failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
