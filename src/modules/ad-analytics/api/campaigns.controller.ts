import { Body, Param, Query } from '@nestjs/common';
import { ApiController, Endpoint, linksTo } from '../../../platform/openapi';
import { CampaignService } from '../application/campaign.service';
import { CreateCampaignDto, PatchCampaignDto, ServeQuery } from './ad-analytics.dto';
import { CampaignView, ServeDecision } from './ad-analytics.responses';

const CAMPAIGN_EXAMPLE = { id: '01a22c8e-01b5-706c-898f-ea5f96bd6b6c', name: 'Winter sale', advertiserId: 'adv-42', active: true, ads: [{ id: 'ad-1', creativeUrl: 'https://cdn.example.com/creative/1.png', weight: 1 }], createdAt: '2026-11-30T13:03:53.782Z', updatedAt: '2026-11-30T13:03:53.782Z' };

@ApiController('ad-analytics', 'api/v1/ads')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignService) {}

  @Endpoint('POST campaigns', 'admin', 'Create a campaign', {
    requestExample: { name: 'Winter sale', advertiserId: 'adv-42', ads: [{ id: 'ad-1', creativeUrl: 'https://cdn.example.com/creative/1.png', weight: 1 }] },
    description: 'A campaign with 1..1,000 ads (creative URL and serving weight); every instance serves it within seconds.',
    responses: [{
      status: 201, description: 'the campaign', type: CampaignView, example: CAMPAIGN_EXAMPLE,
      links: {
        ...linksTo({ id: '$response.body#/id' }, { GetCampaign: 'CampaignsController_get', PatchCampaign: 'CampaignsController_patch' }),
        ...linksTo({ campaignId: '$response.body#/id' }, { CampaignStats: 'StatsController_campaign' }),
      },
    }],
    errorNotes: { 409: 'the campaign id exists, or an ad id belongs to another campaign' },
  })
  create(@Body() dto: CreateCampaignDto) {
    return this.campaigns.create(dto);
  }

  @Endpoint('GET campaigns/:id', 'service', 'Read a campaign', {
    description: 'The campaign with its ads and whether it is active.',
    responses: [{ status: 200, description: 'the campaign', type: CampaignView, example: CAMPAIGN_EXAMPLE }],
  })
  get(@Param('id') id: string) {
    return this.campaigns.get(id);
  }

  @Endpoint('PATCH campaigns/:id', 'admin', 'Pause or resume a campaign', {
    requestExample: { active: false },
    description: '`active: false` stops serving its ads; `true` resumes.',
    responses: [{ status: 200, description: 'the campaign', type: CampaignView, example: CAMPAIGN_EXAMPLE }],
  })
  patch(@Param('id') id: string, @Body() dto: PatchCampaignDto) {
    return this.campaigns.setActive(id, dto.active);
  }

  /** Chooses an ad from the in-memory snapshot; no I/O on this path. */
  @Endpoint('GET serve', 'service', 'Choose an ad to show', {
    description: 'Picks an active ad by weight from the in-memory snapshot (no I/O) and mints the impression id to track with.',
    responses: [{
      status: 200, description: 'the ad to show', type: ServeDecision,
      example: { impressionId: '01a22c8e-01ec-7738-baf9-9072b618cd91', adId: 'ad-1', campaignId: '01a22c8e-01b5-706c-898f-ea5f96bd6b6c', creativeUrl: 'https://cdn.example.com/creative/1.png' },
    }],
    errorNotes: { 404: 'no active ad can be served (`no_eligible_ad`)' },
  })
  serve(@Query() q: ServeQuery) {
    return this.campaigns.serve(q.placement);
  }
}
