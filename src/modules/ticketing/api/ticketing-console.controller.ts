import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { PagingQuery } from '../../../platform/paging/paging-query.dto';
import { openSse } from '../../../platform/sse/sse-response';
import { TicketingViews } from '../console/ticketing-views.service';


/** Read views for operators of a sale (the web console's ticketing page); no state changes here. */
@ApiTags('ticketing')
@Controller('api/v1/events')
export class TicketingConsoleController {
  constructor(private readonly views: TicketingViews) {}

  @RequireRole('client')
  @Get()
  list(@Query() q: PagingQuery) {
    return this.views.events(q.limit ?? 50, q.offset ?? 0);
  }

  /** Every seat of the event with its state: AVAILABLE, HELD or SOLD. */
  @RequireRole('client')
  @Get(':eventId/seats')
  seats(@Param('eventId') eventId: string) {
    return this.views.seats(eventId);
  }

  /** Orders per state and the latest 20 (operators: service role). */
  @RequireRole('service')
  @Get(':eventId/orders')
  orders(@Param('eventId') eventId: string) {
    return this.views.orders(eventId);
  }

  /** The waiting room's line: joined, admitted, still waiting, admission rate. */
  @RequireRole('client')
  @Get(':eventId/waiting-room')
  waitingRoom(@Param('eventId') eventId: string) {
    return this.views.waitingRoom(eventId);
  }

  /**
   * Server-sent events, each sent when its view changed (checked once a second per event, one
   * check shared by every listener): `availability` (as GET …/availability), `seats` (GET …/seats)
   * and `queue` (GET …/waiting-room).
   */
  @RequireRole('client')
  @Get(':eventId/availability/stream')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream of `availability`, `seats` and `queue` events', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  async stream(@Param('eventId') eventId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.views.availability(eventId); // 404 (a problem document) before the stream starts
    const stops: (() => void)[] = [];
    const sse = openSse(req, reply, () => stops.forEach((s) => s()));
    stops.push(
      this.views.feeds.subscribe(`a:${eventId}`, () => this.views.availability(eventId), (v) => sse.send('availability', v)),
      this.views.feeds.subscribe(`s:${eventId}`, () => this.views.seats(eventId), (v) => sse.send('seats', v)),
      this.views.feeds.subscribe(`q:${eventId}`, () => this.views.waitingRoom(eventId), (v) => sse.send('queue', v)),
    );
  }
}
