import { Body, Param } from '@nestjs/common';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { QueueView } from './ticketing.responses';
import { EventsService } from '../application/events.service';
import { WaitingRoomService } from '../application/waiting-room.service';
import { JoinQueueDto } from './waiting-room.dto';

@ApiController('ticketing', 'api/v1/events/:eventId/queue')
export class WaitingRoomController {
  constructor(
    private readonly events: EventsService,
    private readonly room: WaitingRoomService,
  ) {}

  @Endpoint('POST', 'client', 'Join an event\'s waiting room', {
    requestExample: { userId: 'user-1' },
    description: 'Takes a place in line (joining again returns the same token). Once admitted, send the token as Waiting-Room-Token when holding.',
    responses: [{
      status: 201, description: 'your place in line', type: QueueView,
      example: { eventId: '01a22c8d-fde9-75db-bf6e-3e2a8f589b95', token: 'Nd6us3bC_wxkElNVV9VX-g', queueNumber: 1, position: 0, admitted: true, estimatedWaitSeconds: 0, admitPerSecond: 100 },
      links: { Status: { operationId: 'WaitingRoomController_status', parameters: { eventId: '$request.path.eventId', token: '$response.body#/token' } } },
    }],
    errorNotes: { 409: 'the event has no waiting room (`waiting_room_disabled`)' },
  })
  async join(@Param('eventId') eventId: string, @Body() dto: JoinQueueDto) {
    return this.room.join(await this.events.event(eventId), dto.userId);
  }

  @Endpoint('GET :token', 'client', 'Your place in a waiting room', {
    description: 'Position, admission and estimated wait for a token.',
    responses: [{
      status: 200, description: 'your place in line', type: QueueView,
      example: { eventId: '01a22c8d-fde9-75db-bf6e-3e2a8f589b95', token: 'Nd6us3bC_wxkElNVV9VX-g', queueNumber: 7, position: 3, admitted: false, estimatedWaitSeconds: 1, admitPerSecond: 100 },
    }],
    errorNotes: { 404: 'unknown token or event', 409: 'the event has no waiting room (`waiting_room_disabled`)' },
  })
  async status(@Param('eventId') eventId: string, @Param('token') token: string) {
    return this.room.status(await this.events.event(eventId), token);
  }
}
