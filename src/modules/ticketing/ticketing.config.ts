import { configSlice } from '../../config/config-slice';

/** The knobs the ticketing module reads (provided in ticketing.module.ts). */
export class TicketingConfig extends configSlice(
  'NAMESPACE',
  'hasRole',
  'TICKETING_PAYMENT_LATENCY_MS',
  'TICKETING_PAYMENT_DECLINE_RATE',
  'TICKETING_PAYMENT_WINDOW_SECONDS',
  'TICKETING_HOLD_STRATEGY',
  'TICKETING_WEBHOOK_SECRETS',
) {}
