import { Module } from '@nestjs/common';
import { provideConfigSlice } from '../../config/config-slice';
import { selectAdapter } from '../../platform/adapter-selection';
import { Clock } from '../../platform/clock/clock';
import { IdempotencyStore } from '../../platform/idempotency/idempotency-store';
import { KeyValueStore } from '../../platform/kv/key-value-store.port';
import { CreatesTopics } from '../../platform/messaging/module-topics';
import { OutboxModule } from '../../platform/outbox/outbox';
import { HotInventoryStrategy } from './adapters/hot-inventory.strategy';
import { InProcessHotInventory } from './adapters/in-process-hot-inventory';
import { InProcessWaitingRoomStore } from './adapters/in-process-waiting-room-store';
import { PostgresInventoryStrategy } from './adapters/postgres-inventory.strategy';
import { RedisHotInventory } from './adapters/redis-hot-inventory';
import { RedisWaitingRoomStore } from './adapters/redis-waiting-room-store';
import { SimulatedPaymentProvider } from './adapters/simulated-payment-provider';
import { SqlEventRepository } from './adapters/sql-event-repository';
import { SqlHoldRepository } from './adapters/sql-hold-repository';
import { SqlOrderRepository } from './adapters/sql-order-repository';
import { PaymentWebhookController } from './api/payment-webhook.controller';
import { TicketingConsoleController } from './api/ticketing-console.controller';
import { TicketingController } from './api/ticketing.controller';
import { WaitingRoomController } from './api/waiting-room.controller';
import { EventsService } from './application/events.service';
import { HoldsService } from './application/holds.service';
import { OrdersService } from './application/orders.service';
import { PaymentWebhookService } from './application/payment-webhook.service';
import { ReconciliationService } from './application/reconciliation.service';
import { TicketingMetrics } from './application/ticketing.metrics';
import { TicketingViews } from './application/ticketing-views.service';
import { WaitingRoomService } from './application/waiting-room.service';
import { TicketingCron } from './jobs/ticketing.cron';
import { TicketingProcessor } from './jobs/ticketing.processor';
import { EventRepository } from './ports/event-repository.port';
import { HoldRepository } from './ports/hold-repository.port';
import { HotInventory } from './ports/hot-inventory.port';
import { InventoryStrategy } from './ports/inventory-strategy.port';
import { OrderRepository } from './ports/order-repository.port';
import { PaymentProvider } from './ports/payment-provider.port';
import { WaitingRoomStore } from './ports/waiting-room-store.port';
import { TicketingConfig } from './ticketing.config';
import { ORDERS_TOPIC } from './ticketing.types';
import { DataSource } from 'typeorm';

/** Seed design notes for this module: see docs/ticketing.md. Its public surface is ./index.ts. */
@Module({
  imports: [OutboxModule],
  controllers: [TicketingController, PaymentWebhookController, WaitingRoomController, TicketingConsoleController],
  providers: [
    provideConfigSlice(TicketingConfig),
    { provide: EventRepository, useClass: SqlEventRepository },
    { provide: HoldRepository, useClass: SqlHoldRepository },
    { provide: OrderRepository, useClass: SqlOrderRepository },
    EventsService,
    HoldsService,
    OrdersService,
    ReconciliationService,
    PaymentWebhookService,
    WaitingRoomService,
    TicketingViews,
    TicketingMetrics,
    TicketingProcessor,
    TicketingCron,
    // Redis on the full profile (shared by every process), else in this process.
    selectAdapter(HotInventory, {
      inject: [TicketingConfig, KeyValueStore, Clock],
      full: (config: TicketingConfig, kv: KeyValueStore, clock: Clock) => new RedisHotInventory(kv, config.NAMESPACE, () => clock.now()),
      inProcess: (_config: TicketingConfig, _kv: KeyValueStore, clock: Clock) => new InProcessHotInventory(() => clock.now()),
    }),
    selectAdapter(WaitingRoomStore, {
      inject: [TicketingConfig, KeyValueStore],
      full: (config: TicketingConfig, kv: KeyValueStore) => new RedisWaitingRoomStore(kv, config.NAMESPACE),
      inProcess: (config: TicketingConfig, kv: KeyValueStore) => new InProcessWaitingRoomStore(kv, config.NAMESPACE),
    }),
    {
      // TICKETING_HOLD_STRATEGY picks how holds are decided; one strategy per process.
      provide: InventoryStrategy,
      useFactory: (config: TicketingConfig, ds: DataSource, keys: IdempotencyStore, hot: HotInventory, events: EventRepository, holds: HoldRepository, clock: Clock) =>
        config.TICKETING_HOLD_STRATEGY === 'postgres' ? new PostgresInventoryStrategy(ds, holds, keys, hot) : new HotInventoryStrategy(hot, events, holds, clock),
      inject: [TicketingConfig, DataSource, IdempotencyStore, HotInventory, EventRepository, HoldRepository, Clock],
    },
    {
      provide: PaymentProvider,
      useFactory: (config: TicketingConfig, kv: KeyValueStore) =>
        new SimulatedPaymentProvider(kv, `${config.NAMESPACE}:simpay`, {
          latencyMs: config.TICKETING_PAYMENT_LATENCY_MS,
          declineRate: config.TICKETING_PAYMENT_DECLINE_RATE,
        }),
      inject: [TicketingConfig, KeyValueStore],
    },
  ],
})
export class TicketingModule extends CreatesTopics(ORDERS_TOPIC) {}
