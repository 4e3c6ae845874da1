import { ApiProperty } from '@nestjs/swagger';
import { ClosedSchema } from '../../../platform/openapi';
import { MAX_TRACK_BATCH, MAX_TS, MIN_TS, TRACK_ID_PATTERN } from '../domain/track-event';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsNumber, IsString, IsUrl, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { OptionalProperty, StringMatching } from '../../../platform/validation/int-range';

const ID = TRACK_ID_PATTERN;

export class AdDto {
  @ApiProperty({ example: 'ad-1', pattern: ID.source })
  @StringMatching(ID)
  id!: string;

  @ApiProperty({ example: 'https://cdn.example.com/creative/1.png' })
  @IsString()
  @MaxLength(2048)
  @IsUrl({ require_protocol: true, protocols: ['http', 'https'], require_tld: false })
  creativeUrl!: string;

  @ApiProperty({ description: 'relative serving weight; 0 = never served', example: 1 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1_000_000)
  weight!: number;
}

export class CreateCampaignDto {
  @OptionalProperty({ description: 'generated (UUIDv7) when absent', pattern: ID.source })
  @StringMatching(ID)
  id?: string;

  @ApiProperty({ example: 'Winter sale' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ example: 'adv-42', pattern: ID.source })
  @StringMatching(ID)
  advertiserId!: string;

  @ApiProperty({ type: [AdDto], minItems: 1, maxItems: 1000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => AdDto)
  ads!: AdDto[];

  @OptionalProperty({ default: true })
  @IsBoolean()
  active?: boolean;
}

export class PatchCampaignDto {
  @ApiProperty({ description: 'false pauses the campaign (its ads stop being served), true resumes it' })
  @IsBoolean()
  active!: boolean;
}

export class ServeQuery {
  @ApiProperty({ example: 'home-top', pattern: ID.source })
  @StringMatching(ID)
  placement!: string;

  @ApiProperty({ example: 'u-123', pattern: ID.source })
  @StringMatching(ID)
  userId!: string;
}

export class StatsQuery {
  @OptionalProperty({ description: 'window starts >= from; epoch ms or ISO 8601; default to - 1 h' })
  @IsString()
  @MaxLength(40)
  from?: string;

  @OptionalProperty({ description: 'window starts < to; epoch ms or ISO 8601; default now' })
  @IsString()
  @MaxLength(40)
  to?: string;
}

// Documentation only: the body is validated by parseTrackBatch (fast path, error names the index),
// whose own constants give the limits here.
const TRACK_ID = { pattern: TRACK_ID_PATTERN.source } as const;

@ClosedSchema()
export class TrackEventDto {
  @ApiProperty({ enum: ['impression', 'click'] })
  type!: string;
  @ApiProperty({ example: '01a22c8e-01ec-7738-baf9-9072b618cd91', description: 'from GET /ads/serve', ...TRACK_ID })
  impressionId!: string;
  @ApiProperty({ example: 'ad-1', ...TRACK_ID })
  adId!: string;
  @ApiProperty({ example: 'c-1', ...TRACK_ID })
  campaignId!: string;
  @ApiProperty({ type: 'integer', description: 'event time, epoch ms', minimum: MIN_TS, maximum: MAX_TS, example: 1_764_507_780_000 })
  ts!: number;
}

export class TrackBatchDoc {
  @ApiProperty({ type: [TrackEventDto], minItems: 1, maxItems: MAX_TRACK_BATCH })
  events!: TrackEventDto[];
}
