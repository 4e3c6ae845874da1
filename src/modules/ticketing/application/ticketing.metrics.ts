import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { AppError } from '../../../platform/errors/app-error';
import { topicName } from '../../../platform/messaging/topics';
import { Outbox } from '../../../platform/outbox/outbox';
import { ORDERS_TOPIC } from '../ticketing.types';
import { TicketingConfig } from '../ticketing.config';

/**
 * What an operator watches in a sale: how holds end (a `sold_out` flood is the sale working; a
 * `inventory_busy` or `error` rise is not), what the reconciler had to repair (should stay near zero
 * outside crashes), and the outbox backlog (Kafka trouble shows here before consumers notice).
 */
@Injectable()
export class TicketingMetrics {
  private readonly holds: Counter<'outcome'>;
  readonly repairs: Counter<'step'>;

  constructor(metrics: MetricsRegistry, outbox: Outbox, config: TicketingConfig) {
    const orders = topicName(config, ORDERS_TOPIC);
    const registers = [metrics.registry];
    this.holds = new Counter({
      name: 'ticketing_hold_requests_total',
      help: 'hold requests by outcome: created, or the problem code (sold_out, per_user_limit, ...)',
      labelNames: ['outcome'],
      registers,
    });
    this.repairs = new Counter({
      name: 'ticketing_reconcile_repairs_total',
      help: 'what the reconciliation cron repaired, by step (expired holds, rebuilt inventories, ...)',
      labelNames: ['step'],
      registers,
    });
    new Gauge({
      name: 'ticketing_outbox_backlog',
      help: 'order events committed but not yet acknowledged by Kafka',
      registers,
      async collect() {
        this.set(await outbox.backlog(orders).catch(() => -1));
      },
    });
  }

  /** Counts the outcome of one hold request and passes it through. */
  async countHold<T>(work: Promise<T>): Promise<T> {
    try {
      const result = await work;
      this.holds.inc({ outcome: 'created' });
      return result;
    } catch (e) {
      this.holds.inc({ outcome: e instanceof AppError ? e.code : 'error' });
      throw e;
    }
  }
}
