import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PolledFeeds } from '../../../platform/sse/polled-feed';
import { TicketingService } from '../ticketing.service';
import { WaitingRoomService } from './waiting-room.service';

const FEED_INTERVAL_MS = 1000;
const RECENT_ORDERS = 20;

export interface SeatState {
  seatId: string;
  section: string;
  status: 'AVAILABLE' | 'HELD' | 'SOLD';
}

/**
 * Read views for operators of a sale (the web console's ticketing page), and the shared pollers
 * behind GET /events/{id}/availability/stream: one check per event per second whoever watches,
 * pushed only when the view changed.
 */
@Injectable()
export class TicketingViews implements OnModuleDestroy {
  readonly feeds = new PolledFeeds<unknown>('ticketing-availability-stream', FEED_INTERVAL_MS);

  constructor(
    private readonly ds: DataSource,
    private readonly ticketing: TicketingService,
    private readonly room: WaitingRoomService,
  ) {}

  onModuleDestroy(): void {
    this.feeds.close();
  }

  /** Newest events first. */
  async events(limit: number, offset: number) {
    const rows: { id: string; name: string; kind: string; starts_at_ms: string; capacity: number }[] = await this.ds.query(
      `SELECT id, name, kind, starts_at_ms, capacity FROM ticketing_events ORDER BY created_at_ms DESC, id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return { events: rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, startsAt: new Date(Number(r.starts_at_ms)).toISOString(), capacity: r.capacity })) };
  }

  /** Every seat with its state (GA events have none of their places named by the buyer, but rows exist all the same). */
  async seats(eventId: string): Promise<{ eventId: string; seats: SeatState[] }> {
    await this.ticketing.getEvent(eventId); // 404 for an unknown event
    const rows: { seat_id: string; section: string; status: SeatState['status'] }[] = await this.ds.query(
      `SELECT seat_id, section, status FROM ticketing_seats WHERE event_id = $1 ORDER BY section, seat_id`,
      [eventId],
    );
    return { eventId, seats: rows.map((r) => ({ seatId: r.seat_id, section: r.section, status: r.status })) };
  }

  /** Orders of an event: how many in each state, and the latest ones (no user ids). */
  async orders(eventId: string) {
    await this.ticketing.getEvent(eventId);
    const [counts, recent] = await Promise.all([
      this.ds.query(`SELECT status, count(*)::int AS n FROM ticketing_orders WHERE event_id = $1 GROUP BY status`, [eventId]) as Promise<
        { status: string; n: number }[]
      >,
      this.ds.query(
        `SELECT id, status, amount_cents, failure_reason, updated_at_ms FROM ticketing_orders WHERE event_id = $1
          ORDER BY updated_at_ms DESC, id LIMIT ${RECENT_ORDERS}`,
        [eventId],
      ) as Promise<{ id: string; status: string; amount_cents: string; failure_reason: string | null; updated_at_ms: string }[]>,
    ]);
    const byStatus: Record<string, number> = { PENDING: 0, CONFIRMED: 0, FAILED: 0 };
    for (const c of counts) byStatus[c.status] = c.n;
    return {
      eventId,
      byStatus,
      recent: recent.map((o) => ({
        orderId: o.id,
        status: o.status,
        amount: Number(o.amount_cents) / 100,
        failureReason: o.failure_reason,
        updatedAt: new Date(Number(o.updated_at_ms)).toISOString(),
      })),
    };
  }

  async waitingRoom(eventId: string) {
    return { eventId, ...(await this.room.line(await this.ticketing.roomEvent(eventId))) };
  }

  availability(eventId: string) {
    return this.ticketing.availability(eventId, false);
  }
}
