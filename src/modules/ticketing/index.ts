export { TicketingModule } from './ticketing.module';
export { TicketingService } from './ticketing.service';
export { TicketingOrders } from './orders/ticketing-orders.service';
export { OutboxRelay } from './outbox/outbox-relay';
export { PaymentProvider } from './ports/payment-provider.port';
export type { CreateEventInput, HoldInput, HoldView, OrderView } from './ticketing.types';
