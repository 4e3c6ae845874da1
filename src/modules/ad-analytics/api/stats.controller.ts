import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { StatsService } from '../stats.service';
import { StatsQuery } from './ad-analytics.dto';

const HEARTBEAT_MS = 15_000;

@ApiTags('ad-analytics')
@ApiSecurity('api-key')
@Controller('api/v1/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Server-sent events: one `minute` event per batch of closed windows (totals over partitions so far). */
  @RequireRole('client')
  @Get('stream')
  @ApiProduces('text/event-stream')
  async stream(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const raw = reply.raw;
    const stop = await this.stats.listen({
      push: (u) => raw.write(`event: minute\ndata: ${JSON.stringify(u)}\n\n`),
      end: () => raw.end(),
    });
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(req.id),
    });
    raw.write(': connected\n\n');
    const beat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    beat.unref();
    const end = () => {
      clearInterval(beat);
      stop();
    };
    req.raw.on('close', end);
    raw.on('close', end);
  }

  @RequireRole('client')
  @Get('ads/:adId')
  ad(@Param('adId') adId: string, @Query() q: StatsQuery) {
    return this.stats.forAd(adId, q.from, q.to);
  }

  @RequireRole('client')
  @Get('campaigns/:campaignId')
  campaign(@Param('campaignId') campaignId: string, @Query() q: StatsQuery) {
    return this.stats.forCampaign(campaignId, q.from, q.to);
  }
}
