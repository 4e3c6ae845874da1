import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NewEvent, TicketedEvent, toCents } from '../domain';
import { EventRepository, SeatStatus } from '../ports/event-repository.port';
import { TicketingConfig } from '../ticketing.config';

interface EventRow {
  id: string;
  name: string;
  kind: 'SEATED' | 'GA';
  starts_at_ms: string;
  sales_open_at_ms: string | null;
  hold_ttl_seconds: number;
  max_per_user: number;
  capacity: number;
  sections: TicketedEvent['layout'];
  waiting_room: TicketedEvent['waitingRoom'];
}

const toEvent = (r: EventRow): TicketedEvent => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  startsAtMs: Number(r.starts_at_ms),
  salesOpenAtMs: r.sales_open_at_ms === null ? null : Number(r.sales_open_at_ms),
  holdTtlSeconds: r.hold_ttl_seconds,
  maxPerUser: r.max_per_user,
  capacity: r.capacity,
  layout: typeof r.sections === 'string' ? JSON.parse(r.sections) : r.sections,
  waitingRoom: r.waiting_room ?? null,
});

@Injectable()
export class SqlEventRepository extends EventRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly config: TicketingConfig,
  ) {
    super();
  }

  async create(id: string, e: NewEvent, nowMs: number): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO ticketing_events (id, name, kind, starts_at_ms, sales_open_at_ms, hold_ttl_seconds, max_per_user, capacity, sections, created_at_ms, namespace, waiting_room)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [id, e.name, e.kind, e.startsAtMs, e.salesOpenAtMs, e.holdTtlSeconds, e.maxPerUser, e.capacity, JSON.stringify(e.layout), nowMs, this.config.NAMESPACE,
          e.waitingRoom ? JSON.stringify(e.waitingRoom) : null],
      );
      const ga = e.layout.generalAdmission;
      if (ga) {
        await m.query(
          `INSERT INTO ticketing_seats (event_id, seat_id, section, price_cents)
           SELECT $1, 'GA-GA-' || g, 'GA', $2 FROM generate_series(1, $3::int) g`,
          [id, toCents(ga.price), e.capacity],
        );
      }
      for (const s of e.layout.sections ?? []) {
        await m.query(
          `INSERT INTO ticketing_seats (event_id, seat_id, section, price_cents)
           SELECT $1, $2 || '-' || r || '-' || n, $2, $3 FROM generate_series(1, $4::int) r, generate_series(1, $5::int) n`,
          [id, s.name, toCents(s.price), s.rows, s.seatsPerRow],
        );
      }
    });
  }

  async find(eventId: string): Promise<TicketedEvent | undefined> {
    const rows: EventRow[] = await this.ds.query(`SELECT * FROM ticketing_events WHERE id = $1`, [eventId]);
    return rows[0] && toEvent(rows[0]);
  }

  async list(limit: number, offset: number): Promise<TicketedEvent[]> {
    const rows: EventRow[] = await this.ds.query(`SELECT * FROM ticketing_events ORDER BY created_at_ms DESC, id LIMIT $1 OFFSET $2`, [limit, offset]);
    return rows.map(toEvent);
  }

  async upcoming(sinceMs: number): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT id FROM ticketing_events WHERE starts_at_ms > $1 AND namespace = $2 ORDER BY starts_at_ms LIMIT 1000`,
      [sinceMs, this.config.NAMESPACE],
    );
    return rows.map((r) => r.id);
  }

  async seatCounts(eventId: string): Promise<{ section: string; status: SeatStatus; n: number }[]> {
    const rows: { section: string; status: SeatStatus; n: string }[] = await this.ds.query(
      `SELECT section, status, count(*) AS n FROM ticketing_seats WHERE event_id = $1 GROUP BY section, status ORDER BY section`,
      [eventId],
    );
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }

  async seats(eventId: string): Promise<{ seatId: string; section: string; status: SeatStatus }[]> {
    const rows: { seat_id: string; section: string; status: SeatStatus }[] = await this.ds.query(
      `SELECT seat_id, section, status FROM ticketing_seats WHERE event_id = $1 ORDER BY section, seat_id`,
      [eventId],
    );
    return rows.map((r) => ({ seatId: r.seat_id, section: r.section, status: r.status }));
  }

  async freeSeats(eventId: string): Promise<string[]> {
    const rows: { seat_id: string }[] = await this.ds.query(
      `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND status = 'AVAILABLE' ORDER BY section, seat_id`,
      [eventId],
    );
    return rows.map((r) => r.seat_id);
  }

  async placesPerUser(eventId: string): Promise<Map<string, number>> {
    const rows: { user_id: string; n: string }[] = await this.ds.query(
      `SELECT h.user_id, count(*) AS n FROM ticketing_seats s JOIN ticketing_holds h ON h.id = s.hold_id
       WHERE s.event_id = $1 GROUP BY h.user_id`,
      [eventId],
    );
    return new Map(rows.map((r) => [r.user_id, Number(r.n)]));
  }

  async knownSeats(eventId: string, seatIds: string[]): Promise<Set<string>> {
    const rows: { seat_id: string }[] = await this.ds.query(
      `SELECT seat_id FROM ticketing_seats WHERE event_id = $1 AND seat_id = ANY($2::text[])`,
      [eventId, seatIds],
    );
    return new Set(rows.map((r) => r.seat_id));
  }
}
