import { Module, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ModuleTopics } from '../../platform/messaging/module-topics';
import { SimulatedPaymentProvider } from './adapters/simulated-payment-provider';
import { PaymentWebhookController } from './api/payment-webhook.controller';
import { TicketingController } from './api/ticketing.controller';
import { PaymentProvider } from './ports/payment-provider.port';
import { TicketingCron } from './ticketing.cron';
import { TicketingProcessor } from './ticketing.processor';
import { TicketingService } from './ticketing.service';
import { PaymentWebhookService } from './ticketing.webhook';

/** Seed design notes for this module: see docs/ticketing.md. Its public surface is ./index.ts. */
@Module({
  controllers: [TicketingController, PaymentWebhookController],
  providers: [
    TicketingService,
    TicketingProcessor,
    TicketingCron,
    PaymentWebhookService,
    {
      provide: PaymentProvider,
      useFactory: (config: AppConfig) =>
        new SimulatedPaymentProvider({
          latencyMs: config.TICKETING_PAYMENT_LATENCY_MS,
          declineRate: config.TICKETING_PAYMENT_DECLINE_RATE,
        }),
      inject: [AppConfig],
    },
  ],
  exports: [TicketingService],
})
export class TicketingModule implements OnModuleInit {
  static readonly TOPICS = ['ticketing.orders'];

  constructor(private readonly topics: ModuleTopics) {}

  onModuleInit(): Promise<void> {
    return this.topics.ensure(TicketingModule.TOPICS);
  }
}
