import { OrderState } from '../domain';
import { OrderView } from '../ticketing.types';
import { HoldRecord } from './hold-repository.port';

export interface OrderRecord {
  id: string;
  holdId: string;
  eventId: string;
  userId: string;
  status: OrderState;
  amountCents: number;
  paymentMethod: string;
  failureReason: string | null;
  paymentRef: string | null;
  expiresAtMs: number;
}

/** What one order transaction may do; every state change also writes its outbox event (`announce`). */
export interface OrderTransaction {
  lockHold(holdId: string): Promise<HoldRecord | undefined>;
  lockOrder(orderId: string): Promise<OrderRecord | undefined>;
  findOrder(orderId: string): Promise<OrderRecord | undefined>;
  insertOrder(o: Omit<OrderRecord, 'status' | 'failureReason' | 'paymentRef'>, nowMs: number): Promise<void>;
  setHoldStatus(holdId: string, status: string): Promise<void>;
  /** The hold's HELD seats back to AVAILABLE; their ids. */
  freeSeats(holdId: string): Promise<string[]>;
  /** The hold's HELD seats SOLD with one ticket each (codes given), hold CONVERTED; all or nothing. */
  sell(o: OrderRecord, ticketCode: () => string): Promise<void>;
  /** The new state, version + 1; `voidDue` is or-ed into the flag. */
  update(orderId: string, next: { status: OrderState; failureReason: string | null; paymentRef: string | null; voidDue: boolean }, nowMs: number): Promise<void>;
  setVoidDue(orderId: string): Promise<void>;
  /** Writes the order's current state to the outbox as `order.<status>`, keyed by order id. */
  announce(orderId: string, nowMs: number): Promise<void>;
}

/** Orders and tickets in SQL. */
export abstract class OrderRepository {
  abstract transaction<T>(work: (tx: OrderTransaction) => Promise<T>): Promise<T>;
  abstract find(orderId: string): Promise<OrderRecord | undefined>;
  abstract views(by: { orderId: string } | { userId: string }): Promise<OrderView[]>;
  abstract clearVoidDue(orderId: string): Promise<void>;
  /** This namespace's PENDING orders past their deadline. */
  abstract overdue(nowMs: number, limit: number): Promise<string[]>;
  /** This namespace's PENDING orders untouched since `beforeMs`. */
  abstract stalePending(beforeMs: number, limit: number): Promise<string[]>;
  abstract voidsDue(limit: number): Promise<string[]>;
  /** An event's orders per state, and its latest ones. */
  abstract eventSummary(eventId: string, recent: number): Promise<{ counts: { status: string; n: number }[]; recent: (OrderRecord & { updatedAtMs: number })[] }>;
}
