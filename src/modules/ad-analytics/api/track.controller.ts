import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { EventTracker } from '../event-tracker.service';
import { TrackBatchDoc } from './ad-analytics.dto';

@ApiTags('ad-analytics')
@ApiSecurity('api-key')
@Controller('api/v1/track')
export class TrackController {
  constructor(private readonly tracker: EventTracker) {}

  /** 202 once the log acknowledged the whole batch; 400 names the first bad event's index; 503 when the log does not ack. */
  @RequireRole('service')
  @Post('events')
  @HttpCode(202)
  @ApiBody({ type: TrackBatchDoc })
  async track(@Body() body: unknown) {
    return { accepted: await this.tracker.track(body) };
  }
}
