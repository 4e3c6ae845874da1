import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { CampaignService } from '../campaign.service';
import { CreateCampaignDto, PatchCampaignDto, ServeQuery } from './ad-analytics.dto';

@ApiTags('ad-analytics')
@ApiSecurity('api-key')
@Controller('api/v1/ads')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignService) {}

  @RequireRole('admin')
  @Post('campaigns')
  create(@Body() dto: CreateCampaignDto) {
    return this.campaigns.create(dto);
  }

  @RequireRole('service')
  @Get('campaigns/:id')
  get(@Param('id') id: string) {
    return this.campaigns.get(id);
  }

  @RequireRole('admin')
  @Patch('campaigns/:id')
  patch(@Param('id') id: string, @Body() dto: PatchCampaignDto) {
    return this.campaigns.setActive(id, dto.active);
  }

  /** Chooses an ad from the in-memory snapshot; no I/O on this path. */
  @RequireRole('service')
  @Get('serve')
  serve(@Query() q: ServeQuery) {
    return this.campaigns.serve(q.placement);
  }
}
