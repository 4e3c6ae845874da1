// Response bodies of the ads console views as the OpenAPI document shows them (documentation only).
import { ApiProperty } from '@nestjs/swagger';

class CampaignItem {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() advertiserId!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: 'integer' }) ads!: number;
}

export class CampaignList {
  @ApiProperty({ type: [CampaignItem] }) campaigns!: CampaignItem[];
}

class AdTotals {
  @ApiProperty() adId!: string;
  @ApiProperty({ type: 'integer' }) impressions!: number;
  @ApiProperty({ type: 'integer' }) clicks!: number;
  @ApiProperty({ type: 'number', nullable: true }) ctr!: number | null;
}

export class CampaignAdsStats {
  @ApiProperty() campaignId!: string;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, description: 'end of the newest closed window of the whole pipeline (freshness)' })
  newestWindowEnd!: string | null;
  @ApiProperty({ type: [AdTotals] }) ads!: AdTotals[];
}
