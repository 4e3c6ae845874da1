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
  status: 'PENDING' | 'CONFIRMED' | 'FAILED';
  amount: number;
  paymentMethod: string;
  failureReason: string | null;
  tickets: { code: string; seatId: string }[];
  createdAt: string;
}
