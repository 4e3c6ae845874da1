export { TicketingModule } from './ticketing.module';
export { TicketingService } from './ticketing.service';
export { PaymentProvider } from './ports/payment-provider.port';
export type { CreateEventInput, HoldInput, HoldView, OrderView } from './ticketing.types';
