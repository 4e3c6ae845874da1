import { Body, Headers, Param, Query } from '@nestjs/common';
import { ApiHeader, ApiParam } from '@nestjs/swagger';
import { ApiController, Endpoint, linksTo } from '../../../platform/openapi';
import { IDEMPOTENCY_KEY_PATTERN } from '../../../platform/idempotency/idempotency-store';
import { EventsService } from '../application/events.service';
import { HoldsService } from '../application/holds.service';
import { OrdersService } from '../application/orders.service';
import { TicketingMetrics } from '../application/ticketing.metrics';
import { AvailabilityQueryDto, CheckoutDto, CreateEventDto, CreateHoldDto, ReleaseQueryDto } from './ticketing.dto';
import { Availability, CheckoutAccepted, EventCreated, EventView, HoldReleased, HoldView, OrderView, UserOrders } from './ticketing.responses';

const EVENT_ID = '01a22c8d-fe09-77c5-b697-2102a7ddf007';
const HOLD_ID = '01a22c8d-fe79-745b-9e0b-e56e58a0c1dd';
const ORDER_EXAMPLE = {
  orderId: '01a22c8d-ff03-70b9-847b-58d49a0e2dd1', holdId: HOLD_ID, eventId: EVENT_ID, userId: 'user-1', status: 'CONFIRMED', amount: 25,
  paymentMethod: 'card', failureReason: null, tickets: [{ code: 'YTWHKYSWKS-L', seatId: 'GA-GA-1' }], version: 2,
  expiresAt: '2026-11-30T13:08:53.091Z', createdAt: '2026-11-30T13:03:53.091Z',
};
const HOLD_EXAMPLE = { holdId: HOLD_ID, eventId: EVENT_ID, userId: 'user-1', seatIds: ['GA-GA-1'], expiresAt: '2026-11-30T13:08:52.984Z', amount: 25 };
const IdempotencyKey = () =>
  ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a retry with the same key returns the first answer', schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source } });

@ApiController('ticketing', 'api/v1')
export class TicketingController {
  constructor(
    private readonly events: EventsService,
    private readonly holds: HoldsService,
    private readonly orders: OrdersService,
    private readonly metrics: TicketingMetrics,
  ) {}

  @Endpoint('POST events', 'admin', 'Create an event', {
    requestExample: { name: 'Finals', startsAt: '2030-01-01T20:00:00Z', maxPerUser: 4, generalAdmission: { capacity: 1000, price: 25 } },
    description: 'A seated event (`sections` of rows × seats) or a general-admission one (`generalAdmission`), with hold TTL, per-user limit and an optional waiting room.',
    responses: [{
      status: 201, description: 'the event id and capacity', type: EventCreated, example: { id: EVENT_ID, capacity: 1000 },
      links: linksTo({ eventId: '$response.body#/id' }, { GetEvent: 'TicketingController_getEvent', Availability: 'TicketingController_availability', Hold: 'TicketingController_hold', JoinQueue: 'WaitingRoomController_join' }),
    }],
    errorNotes: { 400: 'invalid fields, neither or both of sections and generalAdmission, or duplicate section names' },
  })
  createEvent(@Body() dto: CreateEventDto) {
    return this.events.createEvent(dto);
  }

  @Endpoint('GET events/:eventId', 'client', 'Read an event', {
    description: 'The event\'s configuration: kind, times, limits, sections or general admission, waiting room.',
    responses: [{
      status: 200, description: 'the event', type: EventView,
      example: { id: EVENT_ID, name: 'Finals', kind: 'GA', startsAt: '2030-01-01T20:00:00.000Z', salesOpenAt: null, holdTtlSeconds: 300, maxPerUser: 4, capacity: 1000, waitingRoom: null, generalAdmission: { capacity: 1000, price: 25 } },
    }],
  })
  getEvent(@Param('eventId') eventId: string) {
    return this.events.getEvent(eventId);
  }

  @ApiParam({ name: 'eventId', schema: { type: 'string' } })
  @Endpoint('GET events/:eventId/availability', 'client', 'Availability of an event', {
    description: 'Places available, held and sold, in total and per section; `seats=true` also lists the free seat ids.',
    responses: [{
      status: 200, description: 'the counts', type: Availability,
      example: { eventId: EVENT_ID, capacity: 1000, available: 998, held: 1, sold: 1, sections: [{ name: 'GA', capacity: 1000, available: 998, held: 1, sold: 1 }] },
    }],
  })
  availability(@Param('eventId') eventId: string, @Query() q: AvailabilityQueryDto) {
    return this.events.availability(eventId, q.seats === 'true');
  }

  @Endpoint('POST events/:eventId/holds', 'client', 'Hold places', {
    requestExample: { userId: 'user-1', quantity: 2 },
    description:
      'Holds `quantity` places (general admission) or the given `seatIds` for the event\'s hold TTL; never oversells. ' +
      'The same Idempotency-Key returns the same hold; with a different body it is 422.',
    responses: [{
      status: 201, description: 'the hold', type: HoldView, example: HOLD_EXAMPLE,
      links: linksTo({ holdId: '$response.body#/holdId' }, { GetHold: 'TicketingController_getHold', Checkout: 'TicketingController_checkout', Release: 'TicketingController_release' }),
    }],
    errorNotes: {
      403: 'per-user limit, or the waiting-room token is missing or not this user\'s',
      409: 'sold out, seats taken, or the same key still in progress',
      422: 'the Idempotency-Key was used with a different request (`idempotency_key_reused`)',
      425: 'sales are not open yet',
      429: 'rate limited, or not admitted from the waiting room yet (Retry-After)',
    },
  })
  @IdempotencyKey()
  @ApiHeader({ name: 'Waiting-Room-Token', required: false, description: 'required when the event has a waiting room' })
  hold(
    @Param('eventId') eventId: string,
    @Body() dto: CreateHoldDto,
    @Headers('idempotency-key') key?: string,
    @Headers('waiting-room-token') roomToken?: string,
  ) {
    return this.metrics.countHold(this.holds.hold(eventId, dto, key, roomToken));
  }

  @Endpoint('GET holds/:holdId', 'client', 'Read a hold', {
    description: 'The hold with its status (ACTIVE until checked out, released or expired).',
    responses: [{ status: 200, description: 'the hold', type: HoldView, example: { ...HOLD_EXAMPLE, status: 'ACTIVE' } }],
  })
  getHold(@Param('holdId') holdId: string) {
    return this.holds.getHold(holdId);
  }

  @Endpoint('DELETE holds/:holdId', 'client', 'Release a hold', {
    description: 'Gives the places back at once. With `userId`, the hold must be that user\'s.',
    responses: [{ status: 200, description: 'released', type: HoldReleased, example: { holdId: HOLD_ID, status: 'RELEASED' } }],
    errorNotes: { 403: 'the hold belongs to another user', 409: 'the hold is no longer ACTIVE' },
  })
  release(@Param('holdId') holdId: string, @Query() q: ReleaseQueryDto) {
    return this.holds.releaseHold(holdId, q.userId);
  }

  @Endpoint('POST holds/:holdId/checkout', 'client', 'Check out a hold', {
    requestExample: { paymentMethod: 'card', userId: 'user-1' },
    description:
      'Creates a PENDING order for the hold and charges it; the order becomes CONFIRMED (tickets issued), FAILED or EXPIRED. ' +
      'The same Idempotency-Key returns the same order; with a different body it is 422.',
    responses: [{
      status: 202, description: 'the order was created', type: CheckoutAccepted, example: { orderId: ORDER_EXAMPLE.orderId, holdId: HOLD_ID, status: 'PENDING' },
      links: { GetOrder: { operationId: 'TicketingController_order', parameters: { orderId: '$response.body#/orderId' } } },
    }],
    errorNotes: {
      403: 'the hold belongs to another user',
      409: 'the hold expired or is not ACTIVE, or the same key is still in progress',
      422: 'the Idempotency-Key was used with a different request (`idempotency_key_reused`)',
    },
  })
  @IdempotencyKey()
  checkout(@Param('holdId') holdId: string, @Body() dto: CheckoutDto, @Headers('idempotency-key') key?: string) {
    return this.orders.checkout(holdId, dto, key);
  }

  @Endpoint('GET orders/:orderId', 'client', 'Read an order', {
    description: 'The order\'s status, amount, tickets (once CONFIRMED) and payment deadline.',
    responses: [{ status: 200, description: 'the order', type: OrderView, example: ORDER_EXAMPLE }],
  })
  order(@Param('orderId') orderId: string) {
    return this.orders.getOrder(orderId);
  }

  @Endpoint('GET users/:userId/orders', 'client', 'A user\'s orders', {
    description: 'Every order of the user, newest first.',
    responses: [{ status: 200, description: 'the orders', type: UserOrders, example: { userId: 'user-1', orders: [ORDER_EXAMPLE] } }],
  })
  userOrders(@Param('userId') userId: string) {
    return this.orders.userOrders(userId);
  }
}
