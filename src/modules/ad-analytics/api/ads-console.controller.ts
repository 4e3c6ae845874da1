import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { PagingQuery } from '../../../platform/paging/paging-query.dto';
import { AdsViews } from '../console/ads-views.service';
import { StatsQuery } from './ad-analytics.dto';

/** Read views for advertisers (the web console's ads page). */
@ApiTags('ad-analytics')
@ApiSecurity('api-key')
@Controller('api/v1')
export class AdsConsoleController {
  constructor(private readonly views: AdsViews) {}

  /** Campaigns, newest first, with their number of ads. */
  @RequireRole('client')
  @Get('ads/campaigns')
  campaigns(@Query() q: PagingQuery) {
    return this.views.campaigns(q.limit ?? 50, q.offset ?? 0);
  }

  /** Totals per ad of a campaign over [from, to) (default the last hour), and the pipeline's newest closed window. */
  @RequireRole('client')
  @Get('stats/campaigns/:campaignId/ads')
  ads(@Param('campaignId') campaignId: string, @Query() q: StatsQuery) {
    return this.views.adsOfCampaign(campaignId, q.from, q.to);
  }
}
