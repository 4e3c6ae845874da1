import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { TicketingOrders } from '../orders/ticketing-orders.service';
import { TicketingMetrics } from '../ticketing.metrics';
import { TicketingService } from '../ticketing.service';
import { AvailabilityQueryDto, CheckoutDto, CreateEventDto, CreateHoldDto, ReleaseQueryDto } from './ticketing.dto';

@ApiTags('ticketing')
@Controller('api/v1')
export class TicketingController {
  constructor(
    private readonly sut: TicketingService,
    private readonly metrics: TicketingMetrics,
    private readonly orders: TicketingOrders,
  ) {}

  @RequireRole('admin')
  @Post('events')
  createEvent(@Body() dto: CreateEventDto) {
    return this.sut.createEvent(dto);
  }

  @RequireRole('client')
  @Get('events/:eventId')
  getEvent(@Param('eventId') eventId: string) {
    return this.sut.getEvent(eventId);
  }

  @RequireRole('client')
  @Get('events/:eventId/availability')
  availability(@Param('eventId') eventId: string, @Query() q: AvailabilityQueryDto) {
    return this.sut.availability(eventId, q.seats === 'true');
  }

  @RequireRole('client')
  @ApiHeader({ name: 'Idempotency-Key', required: true })
  @ApiHeader({ name: 'Waiting-Room-Token', required: false, description: 'required when the event has a waiting room' })
  @Post('events/:eventId/holds')
  hold(
    @Param('eventId') eventId: string,
    @Body() dto: CreateHoldDto,
    @Headers('idempotency-key') key?: string,
    @Headers('waiting-room-token') roomToken?: string,
  ) {
    return this.metrics.countHold(this.sut.hold(eventId, dto, key, roomToken));
  }

  @RequireRole('client')
  @Get('holds/:holdId')
  getHold(@Param('holdId') holdId: string) {
    return this.sut.getHold(holdId);
  }

  @RequireRole('client')
  @Delete('holds/:holdId')
  release(@Param('holdId') holdId: string, @Query() q: ReleaseQueryDto) {
    return this.sut.releaseHold(holdId, q.userId);
  }

  @RequireRole('client')
  @ApiHeader({ name: 'Idempotency-Key', required: true })
  @HttpCode(202)
  @Post('holds/:holdId/checkout')
  checkout(@Param('holdId') holdId: string, @Body() dto: CheckoutDto, @Headers('idempotency-key') key?: string) {
    return this.orders.checkout(holdId, dto, key);
  }

  @RequireRole('client')
  @Get('orders/:orderId')
  order(@Param('orderId') orderId: string) {
    return this.orders.getOrder(orderId);
  }

  @RequireRole('client')
  @Get('users/:userId/orders')
  userOrders(@Param('userId') userId: string) {
    return this.orders.userOrders(userId);
  }
}
