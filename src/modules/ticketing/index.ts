export { TicketingModule } from './ticketing.module';
export type { CreateEventInput, HoldInput, HoldView, OrderView } from './ticketing.types';
