import { Body } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { EventTracker } from '../application/event-tracker.service';
import { TrackBatchDoc } from './ad-analytics.dto';
import { TrackAccepted } from './ad-analytics.responses';

@ApiController('ad-analytics', 'api/v1/track')
export class TrackController {
  constructor(private readonly tracker: EventTracker) {}

  /** 202 once the log acknowledged the whole batch; 400 names the first bad event's index; 503 when the log does not ack. */
  @Endpoint('POST events', 'service', 'Track impressions and clicks', {
    requestExample: { events: [{ type: 'impression', impressionId: '01a22c8e-01ec-7738-baf9-9072b618cd91', adId: 'ad-1', campaignId: 'c-1', ts: 1_764_507_780_000 }] },
    description: 'A batch of 1..1,000 events (`{ events: [...] }` or a bare array). 202 once the log acknowledged all of them; they are counted exactly once in 1-minute windows.',
    responses: [{ status: 202, description: 'acknowledged', type: TrackAccepted, example: { accepted: 1 } }],
    errorNotes: { 400: 'the first bad event is named by its index', 503: 'the event log did not acknowledge the batch; retry it' },
  })
  @ApiBody({ type: TrackBatchDoc })
  async track(@Body() body: unknown) {
    return { accepted: await this.tracker.track(body) };
  }
}
