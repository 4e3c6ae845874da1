import { Injectable } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { IdGenerator } from '../../../platform/ids/id-generator';
import { iso, planEvent, TicketedEvent } from '../domain';
import { EventRepository } from '../ports/event-repository.port';
import { InventoryStrategy } from '../ports/inventory-strategy.port';
import { TicketingCode as C, TicketingError } from '../ticketing.errors';
import { CreateEventInput } from '../ticketing.types';

/** Events: creation (rows for every place, then the hot inventory), reads and availability from SQL. */
@Injectable()
export class EventsService {
  private readonly cache = new Map<string, TicketedEvent>();

  constructor(
    private readonly events: EventRepository,
    private readonly inventory: InventoryStrategy,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async createEvent(input: CreateEventInput): Promise<{ id: string; capacity: number }> {
    const plan = planEvent(input);
    const id = this.ids.next();
    await this.events.create(id, plan, this.clock.now());
    await this.inventory.prepare(id);
    return { id, capacity: plan.capacity };
  }

  async getEvent(eventId: string): Promise<Record<string, unknown>> {
    const e = await this.event(eventId);
    return {
      id: e.id,
      name: e.name,
      kind: e.kind,
      startsAt: iso(e.startsAtMs),
      salesOpenAt: e.salesOpenAtMs === null ? null : iso(e.salesOpenAtMs),
      holdTtlSeconds: e.holdTtlSeconds,
      maxPerUser: e.maxPerUser,
      capacity: e.capacity,
      waitingRoom: e.waitingRoom,
      ...e.layout,
    };
  }

  async availability(eventId: string, withSeats: boolean): Promise<Record<string, unknown>> {
    const e = await this.event(eventId);
    const sections = new Map<string, { name: string } & Record<'capacity' | 'available' | 'held' | 'sold', number>>();
    const total = { available: 0, held: 0, sold: 0 };
    for (const r of await this.events.seatCounts(eventId)) {
      const s = sections.get(r.section) ?? { name: r.section, capacity: 0, available: 0, held: 0, sold: 0 };
      const field = r.status === 'AVAILABLE' ? 'available' : r.status === 'HELD' ? 'held' : 'sold';
      s[field] += r.n;
      s.capacity += r.n;
      total[field] += r.n;
      sections.set(r.section, s);
    }
    const out: Record<string, unknown> = { eventId, capacity: e.capacity, ...total, sections: [...sections.values()] };
    if (withSeats) out.seats = await this.events.freeSeats(eventId);
    return out;
  }

  /** The event (404 when unknown). Events never change once created, so each process keeps the ones it read. */
  async event(eventId: string): Promise<TicketedEvent> {
    const cached = this.cache.get(eventId);
    if (cached) return cached;
    const e = await this.events.find(eventId);
    if (!e) throw new TicketingError('not_found', C.EventNotFound, `event ${eventId} not found`);
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(eventId, e);
    return e;
  }
}
