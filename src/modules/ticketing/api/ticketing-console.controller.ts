import { Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { PagingQuery } from '../../../platform/paging/paging-query.dto';
import { LiveFeeds } from '../../../platform/sse/live-feeds';
import { TicketingViews } from '../application/ticketing-views.service';
import { EventList, EventOrdersView, SeatMapView, WaitingRoomLineView } from './ticketing-console.responses';

const AVAILABILITY_EXAMPLE = { eventId: 'e-1', capacity: 10, available: 7, held: 2, sold: 1, sections: [{ name: 'A', capacity: 10, available: 7, held: 2, sold: 1 }] };

/** Read views for operators of a sale (the web console's ticketing page); no state changes here. */
@ApiController('ticketing', 'api/v1/events')
export class TicketingConsoleController {
  constructor(
    private readonly views: TicketingViews,
    private readonly live: LiveFeeds,
  ) {}

  @Endpoint('GET', 'client', 'List events', {
    description: 'Events, newest first (`limit` 1..500, default 50; `offset`).',
    responses: [{ status: 200, description: 'the events', type: EventList, example: { events: [{ id: 'e-1', name: 'Show', kind: 'SEATED', startsAt: '2026-12-24T20:00:00.000Z', capacity: 10 }] } }],
  })
  list(@Query() q: PagingQuery) {
    return this.views.events(q.limit ?? 50, q.offset ?? 0);
  }

  @Endpoint('GET :eventId/seats', 'client', 'Seat map of an event', {
    description: 'Every seat of the event with its state: AVAILABLE, HELD or SOLD.',
    responses: [{ status: 200, description: 'the seats', type: SeatMapView, example: { eventId: 'e-1', seats: [{ seatId: 'A-1-1', section: 'A', status: 'HELD' }] } }],
  })
  seats(@Param('eventId') eventId: string) {
    return this.views.seats(eventId);
  }

  @Endpoint('GET :eventId/orders', 'service', 'Orders of an event by state', {
    description: 'How many orders are in each state, and the latest 20 (no user ids). Operators: service role.',
    responses: [
      {
        status: 200,
        description: 'counts and latest orders',
        type: EventOrdersView,
        example: { eventId: 'e-1', byStatus: { PENDING: 1, CONFIRMED: 4, FAILED: 0 }, recent: [{ orderId: '0193…', status: 'CONFIRMED', amount: 50, failureReason: null, updatedAt: '2026-11-30T13:02:00.000Z' }] },
      },
    ],
  })
  orders(@Param('eventId') eventId: string) {
    return this.views.orders(eventId);
  }

  @Endpoint('GET :eventId/waiting-room', 'client', "An event's waiting-room line", {
    description: 'How many joined, how many are admitted by now, how many still wait, and the admission rate (`enabled: false` without a room).',
    responses: [{ status: 200, description: 'the line', type: WaitingRoomLineView, example: { eventId: 'e-1', enabled: true, joined: 1200, admitted: 300, waiting: 900, admitPerSecond: 50 } }],
  })
  waitingRoom(@Param('eventId') eventId: string) {
    return this.views.waitingRoom(eventId);
  }

  @Endpoint('GET :eventId/availability/stream', 'client', 'Live availability (server-sent events)', {
    description:
      'A `text/event-stream` of `availability` (as GET …/availability), `seats` (GET …/seats) and `queue` (GET …/waiting-room) events, ' +
      'each sent first on connect and then whenever that view changed (checked once a second per event, one check shared by every ' +
      'listener), and a comment line every 15 s.',
    responses: [
      {
        status: 200,
        description: 'the event stream',
        contentType: 'text/event-stream',
        schema: { type: 'string' },
        example: `: connected\n\nevent: availability\ndata: ${JSON.stringify(AVAILABILITY_EXAMPLE)}\n\n`,
      },
    ],
  })
  async stream(@Param('eventId') eventId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.views.availability(eventId); // 404 (a problem document) before the stream starts
    this.live.stream(req, reply, {
      availability: { key: `ticketing:a:${eventId}`, load: () => this.views.availability(eventId) },
      seats: { key: `ticketing:s:${eventId}`, load: () => this.views.seats(eventId) },
      queue: { key: `ticketing:q:${eventId}`, load: () => this.views.waitingRoom(eventId) },
    });
  }
}
