export { TicketingModule } from './ticketing.module';
