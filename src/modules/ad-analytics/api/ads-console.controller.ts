import { Param, Query } from '@nestjs/common';
import { ApiController, Endpoint } from '../../../platform/openapi';
import { PagingQuery } from '../../../platform/paging/paging-query.dto';
import { CampaignService } from '../application/campaign.service';
import { StatsService } from '../application/stats.service';
import { StatsQuery } from './ad-analytics.dto';
import { CampaignAdsStats, CampaignList } from './ads-console.responses';

/** Read views for advertisers (the web console's ads page). */
@ApiController('ad-analytics', 'api/v1')
export class AdsConsoleController {
  constructor(
    private readonly campaignService: CampaignService,
    private readonly stats: StatsService,
  ) {}

  @Endpoint('GET ads/campaigns', 'client', 'List campaigns', {
    description: 'Campaigns, newest first, with their number of ads (`limit` 1..500, default 50; `offset`).',
    responses: [{ status: 200, description: 'the campaigns', type: CampaignList, example: { campaigns: [{ id: 'c-1', name: 'Winter sale', advertiserId: 'adv-1', active: true, ads: 3 }] } }],
  })
  campaigns(@Query() q: PagingQuery) {
    return this.campaignService.list(q.limit ?? 50, q.offset ?? 0);
  }

  @Endpoint('GET stats/campaigns/:campaignId/ads', 'client', 'Per-ad totals of a campaign', {
    description: 'Impressions, clicks and CTR per ad of the campaign over closed windows starting in [from, to) (default the last hour, at most 7 days), and the end of the pipeline\'s newest closed window.',
    responses: [
      {
        status: 200,
        description: 'totals per ad',
        type: CampaignAdsStats,
        example: { campaignId: 'c-1', from: '2026-11-30T00:00:00.000Z', to: '2026-11-30T13:02:00.000Z', newestWindowEnd: '2026-11-30T13:01:00.000Z', ads: [{ adId: 'ad-1', impressions: 100, clicks: 3, ctr: 0.03 }] },
      },
    ],
  })
  ads(@Param('campaignId') campaignId: string, @Query() q: StatsQuery) {
    return this.stats.adsOfCampaign(campaignId, q.from, q.to);
  }
}
