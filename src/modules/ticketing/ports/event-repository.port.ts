import { NewEvent, TicketedEvent } from '../domain';

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

/** Events and their seats in SQL (one row per place: the source of truth for availability). */
export abstract class EventRepository {
  /** The event and one AVAILABLE seat row per place, in one transaction. */
  abstract create(id: string, event: NewEvent, nowMs: number): Promise<void>;
  abstract find(eventId: string): Promise<TicketedEvent | undefined>;
  /** Newest first (operators' list). */
  abstract list(limit: number, offset: number): Promise<TicketedEvent[]>;
  /** Events of this namespace starting after `sinceMs` (the ones whose inventory is kept). */
  abstract upcoming(sinceMs: number): Promise<string[]>;
  abstract seatCounts(eventId: string): Promise<{ section: string; status: SeatStatus; n: number }[]>;
  abstract seats(eventId: string): Promise<{ seatId: string; section: string; status: SeatStatus }[]>;
  /** Free seat ids, by section and seat id. */
  abstract freeSeats(eventId: string): Promise<string[]>;
  /** Places held or sold per user. */
  abstract placesPerUser(eventId: string): Promise<Map<string, number>>;
  /** The asked seat ids that are seats of the event. */
  abstract knownSeats(eventId: string, seatIds: string[]): Promise<Set<string>>;
}
