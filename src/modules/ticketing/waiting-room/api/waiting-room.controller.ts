import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../../platform/auth/roles.decorator';
import { TicketingService } from '../../ticketing.service';
import { WaitingRoomService } from '../waiting-room.service';
import { JoinQueueDto } from './waiting-room.dto';

@ApiTags('ticketing')
@Controller('api/v1/events/:eventId/queue')
export class WaitingRoomController {
  constructor(
    private readonly ticketing: TicketingService,
    private readonly room: WaitingRoomService,
  ) {}

  /** 201 `{ token, queueNumber, position, admitted, estimatedWaitSeconds }`; joining again returns the same token. */
  @RequireRole('client')
  @Post()
  async join(@Param('eventId') eventId: string, @Body() dto: JoinQueueDto) {
    return this.room.join(await this.ticketing.roomEvent(eventId), dto.userId);
  }

  @RequireRole('client')
  @Get(':token')
  async status(@Param('eventId') eventId: string, @Param('token') token: string) {
    return this.room.status(await this.ticketing.roomEvent(eventId), token);
  }
}
