/** Inputs and views of the ticketing application service (transport-neutral). */
export interface SectionInput {
  name: string;
  rows: number;
  seatsPerRow: number;
  price: number;
}

export interface CreateEventInput {
  name: string;
  startsAt: string;
  salesOpenAt?: string;
  holdTtlSeconds?: number;
  maxPerUser?: number;
  sections?: SectionInput[];
  generalAdmission?: { capacity: number; price: number };
  /** Virtual waiting room: holds then need an admitted Waiting-Room-Token (see waiting-room/). */
  waitingRoom?: { enabled: boolean; admitPerSecond: number };
}

export interface HoldInput {
  userId: string;
  seatIds?: string[];
  quantity?: number;
}

export interface CheckoutInput {
  paymentMethod: string;
  userId?: string;
}

export interface HoldView {
  holdId: string;
  eventId: string;
  userId: string;
  seatIds: string[];
  expiresAt: string;
  amount: number;
}

export interface OrderView {
  orderId: string;
  holdId: string;
  eventId: string;
  userId: string;
  status: 'PENDING' | 'CONFIRMED' | 'FAILED' | 'EXPIRED';
  amount: number;
  paymentMethod: string;
  failureReason: string | null;
  tickets: { code: string; seatId: string }[];
  /** 1 when created, +1 per state change (the outbox events carry it too). */
  version: number;
  /** Payment deadline: a PENDING order with no payment outcome by then becomes EXPIRED. */
  expiresAt: string;
  createdAt: string;
}

/** The Kafka topic of order events (`order.created` / `order.confirmed` / `order.failed` / `order.expired`), keyed by order id. */
export const ORDERS_TOPIC = 'ticketing.orders';
