import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobQueue, QueueWorker } from '../../../platform/queue/job-queue.port';
import { HOLD_QUEUE, HoldsService } from '../application/holds.service';
import { ORDER_QUEUE, OrdersService, PAYMENT_QUEUE } from '../application/orders.service';
import { TicketingConfig } from '../ticketing.config';

/** Worker role: hold expiry and order deadlines (delayed jobs) and payments (retried jobs). */
@Injectable()
export class TicketingProcessor implements OnModuleInit, BeforeApplicationShutdown {
  private readonly log = new Logger('ticketing-jobs');
  private workers: QueueWorker[] = [];

  constructor(
    private readonly holds: HoldsService,
    private readonly orders: OrdersService,
    private readonly queue: JobQueue,
    private readonly config: TicketingConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.hasRole('worker')) return;
    this.workers.push(
      this.queue.process<{ holdId: string }>(HOLD_QUEUE, async (job) => {
        await this.holds.expireHold(job.data.holdId);
      }, { concurrency: 8 }),
      this.queue.process<{ orderId: string }>(ORDER_QUEUE, async (job) => {
        await this.orders.expireOrder(job.data.orderId);
      }, { concurrency: 8 }),
      this.queue.process<{ orderId: string }>(PAYMENT_QUEUE, async (job) => this.orders.processPayment(job.data.orderId), {
        concurrency: 16,
        onFailed: async (job, err) => {
          this.log.warn(`payment for order ${job.data.orderId} failed after ${job.attempt} tries: ${err.message}`);
          await this.orders.failOrder(job.data.orderId, 'payment_unavailable');
        },
      }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.close()));
  }
}
