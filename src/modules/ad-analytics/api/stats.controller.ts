import { Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { openSse, SseChannel } from '../../../platform/sse/sse-response';
import { StatsService } from '../application/stats.service';
import { StatsQuery } from './ad-analytics.dto';
import { AdStats, CampaignStats } from './ad-analytics.responses';

const TOTALS_EXAMPLE = { buckets: [{ minute: '2026-11-30T13:02:00.000Z', impressions: 100, clicks: 3, ctr: 0.03 }], totals: { impressions: 100, clicks: 3, ctr: 0.03 } };
const WINDOW_EXAMPLE = { from: '2026-11-30T12:03:53.846Z', to: '2026-11-30T13:03:53.846Z', ...TOTALS_EXAMPLE };

@ApiController('ad-analytics', 'api/v1/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Server-sent events: one `minute` event per batch of closed windows (totals over partitions so far). */
  @Endpoint('GET stream', 'client', 'Live minute counts (server-sent events)', {
    description: 'A `text/event-stream`: one `minute` event per batch of closed windows (totals over partitions so far), and a comment line every 15 s to keep the connection open.',
    responses: [{
      status: 200, description: 'the event stream', contentType: 'text/event-stream', schema: { type: 'string' },
      example:
        ': connected\n\nevent: minute\ndata: {"minute":"2026-11-30T13:02:00.000Z","windowEnd":"2026-11-30T13:03:00.000Z",' +
        '"ads":[{"adId":"ad-1","campaignId":"c-1","impressions":100,"clicks":3,"ctr":0.03}]}\n\n',
    }],
  })
  async stream(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Listen first, so a failure to start is still an ordinary problem response. A push that
    // comes while listen() is still starting (another stream's poll) is before this stream began.
    let channel: SseChannel | undefined;
    const stop = await this.stats.listen({
      push: (u) => channel?.send('minute', u),
      end: () => channel?.end(),
    });
    channel = openSse(req, reply, stop);
  }

  @Endpoint('GET ads/:adId', 'client', 'Minute counts of an ad', {
    description: 'Impressions, clicks and CTR per closed 1-minute window in [from, to) (default the last hour, at most 7 days).',
    responses: [{ status: 200, description: 'the windows and totals', type: AdStats, example: { adId: 'ad-1', ...WINDOW_EXAMPLE } }],
  })
  ad(@Param('adId') adId: string, @Query() q: StatsQuery) {
    return this.stats.forAd(adId, q.from, q.to);
  }

  @Endpoint('GET campaigns/:campaignId', 'client', 'Minute counts of a campaign', {
    description: 'Impressions, clicks and CTR per closed 1-minute window in [from, to), summed over the campaign\'s ads.',
    responses: [{ status: 200, description: 'the windows and totals', type: CampaignStats, example: { campaignId: 'c-1', ...WINDOW_EXAMPLE } }],
  })
  campaign(@Param('campaignId') campaignId: string, @Query() q: StatsQuery) {
    return this.stats.forCampaign(campaignId, q.from, q.to);
  }
}
