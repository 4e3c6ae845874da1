import { Module, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { KeyValueStore } from '../../platform/kv/key-value-store.port';
import { ModuleTopics } from '../../platform/messaging/module-topics';
import { OutboxModule } from '../../platform/outbox/outbox';
import { SimulatedPaymentProvider } from './adapters/simulated-payment-provider';
import { PaymentWebhookController } from './api/payment-webhook.controller';
import { TicketingConsoleController } from './api/ticketing-console.controller';
import { TicketingController } from './api/ticketing.controller';
import { TicketingViews } from './application/ticketing-views.service';
import { inventoryStrategyProvider } from './adapters/inventory-strategy.provider';
import { TicketingOrders } from './application/orders.service';
import { PaymentProvider } from './ports/payment-provider.port';
import { TicketingMetrics } from './ticketing.metrics';
import { TicketingCron } from './jobs/ticketing.cron';
import { TicketingProcessor } from './jobs/ticketing.processor';
import { TicketingService } from './ticketing.service';
import { PaymentWebhookService } from './application/payment-webhook.service';
import { WaitingRoomController } from './api/waiting-room.controller';
import { WaitingRoomService } from './application/waiting-room.service';

/** Seed design notes for this module: see docs/ticketing.md. Its public surface is ./index.ts. */
@Module({
  imports: [OutboxModule],
  controllers: [TicketingController, PaymentWebhookController, WaitingRoomController, TicketingConsoleController],
  providers: [
    TicketingService,
    WaitingRoomService,
    TicketingViews,
    inventoryStrategyProvider,
    TicketingOrders,
    TicketingProcessor,
    TicketingCron,
    TicketingMetrics,
    PaymentWebhookService,
    {
      provide: PaymentProvider,
      useFactory: (config: AppConfig, kv: KeyValueStore) =>
        new SimulatedPaymentProvider(kv, `${config.NAMESPACE}:simpay`, {
          latencyMs: config.TICKETING_PAYMENT_LATENCY_MS,
          declineRate: config.TICKETING_PAYMENT_DECLINE_RATE,
        }),
      inject: [AppConfig, KeyValueStore],
    },
  ],
  exports: [TicketingService, TicketingOrders],
})
export class TicketingModule implements OnModuleInit {
  static readonly TOPICS = ['ticketing.orders'];

  constructor(private readonly topics: ModuleTopics) {}

  onModuleInit(): Promise<void> {
    return this.topics.ensure(TicketingModule.TOPICS);
  }
}
