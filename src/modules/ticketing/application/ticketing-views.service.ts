import { Injectable } from '@nestjs/common';
import { fromCents, iso } from '../domain';
import { EventRepository } from '../ports/event-repository.port';
import { OrderRepository } from '../ports/order-repository.port';
import { EventsService } from './events.service';
import { WaitingRoomService } from './waiting-room.service';

const RECENT_ORDERS = 20;

/** Read views for operators of a sale (the web console's ticketing page and its live stream). */
@Injectable()
export class TicketingViews {
  constructor(
    private readonly eventRows: EventRepository,
    private readonly orderRows: OrderRepository,
    private readonly ticketing: EventsService,
    private readonly room: WaitingRoomService,
  ) {}

  /** Newest events first. */
  async events(limit: number, offset: number) {
    const rows = await this.eventRows.list(limit, offset);
    return { events: rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, startsAt: iso(r.startsAtMs), capacity: r.capacity })) };
  }

  /** Every seat with its state (GA events have none of their places named by the buyer, but rows exist all the same). */
  async seats(eventId: string) {
    await this.ticketing.event(eventId); // 404 for an unknown event
    return { eventId, seats: await this.eventRows.seats(eventId) };
  }

  /** Orders of an event: how many in each state, and the latest ones (no user ids). */
  async orders(eventId: string) {
    await this.ticketing.event(eventId);
    const { counts, recent } = await this.orderRows.eventSummary(eventId, RECENT_ORDERS);
    const byStatus: Record<string, number> = { PENDING: 0, CONFIRMED: 0, FAILED: 0 };
    for (const c of counts) byStatus[c.status] = c.n;
    return {
      eventId,
      byStatus,
      recent: recent.map((o) => ({ orderId: o.id, status: o.status, amount: fromCents(o.amountCents), failureReason: o.failureReason, updatedAt: iso(o.updatedAtMs) })),
    };
  }

  async waitingRoom(eventId: string) {
    return { eventId, ...(await this.room.line(await this.ticketing.event(eventId))) };
  }

  availability(eventId: string) {
    return this.ticketing.availability(eventId, false);
  }
}
