import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { IntRange, QueryInt, StringMatching } from '../../../platform/validation/int-range';

const SAFE = Number.MAX_SAFE_INTEGER;
/** Past any real board (and within PostgreSQL's OFFSET and Redis's ranks); deep top pages have their own cap. */
const MAX_OFFSET = 1_000_000_000;

export class CreateLeaderboardDto {
  @ApiProperty({ example: 'global:weekly', pattern: '^[A-Za-z0-9:_-]{1,64}$' })
  @StringMatching(/^[A-Za-z0-9:_-]{1,64}$/)
  id!: string;

  @ApiPropertyOptional({ enum: ['desc', 'asc'], default: 'desc' })
  @IsOptional()
  @IsIn(['desc', 'asc'])
  order?: 'desc' | 'asc';

  @ApiPropertyOptional({ enum: ['overwrite', 'best', 'increment'], default: 'overwrite' })
  @IsOptional()
  @IsIn(['overwrite', 'best', 'increment'])
  updatePolicy?: 'overwrite' | 'best' | 'increment';

  @ApiPropertyOptional({ minimum: 1, maximum: 1024, default: 1 })
  @IsOptional()
  @IntRange(1, 1024)
  shards?: number;

  @ApiPropertyOptional({ description: 'cron expression, stored only (no scheduler yet)', example: '0 0 * * 1' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  resetSchedule?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class SubmitScoreDto {
  @ApiProperty({ description: 'safe integer', example: 1200 })
  @IntRange(-SAFE, SAFE)
  score!: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'JSON object ≤ 1 KiB' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class BatchScoreEntryDto extends SubmitScoreDto {
  @ApiProperty({ example: 'player-1' })
  @StringMatching(/^[A-Za-z0-9:_.@-]{1,128}$/)
  playerId!: string;

  @ApiPropertyOptional({ description: 'idempotency id: a retried entry with the same id applies once' })
  @IsOptional()
  @StringMatching(/^[\x21-\x7e]{1,128}$/)
  messageId?: string;
}

/**
 * `entries` is the field; `scores` is accepted too (the first clients used it). The entries
 * are checked one by one in LeaderboardService.submit (the same checks as PUT), not by
 * class-validator: turning 1,000 entries into validated class instances was a tenth of the
 * ingest path's CPU.
 */
export class BatchScoresDto {
  @ApiPropertyOptional({ type: [BatchScoreEntryDto], maxItems: 1000 })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  entries?: BatchScoreEntryDto[];

  @ApiPropertyOptional({ type: [BatchScoreEntryDto], maxItems: 1000, description: 'alias of entries' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  scores?: BatchScoreEntryDto[];
}

export class RanksDto {
  @ApiProperty({ type: [String], maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  playerIds!: string[];
}

export class PageQuery {
  @QueryInt(1, 1000, 10)
  limit?: number;

  @QueryInt(0, MAX_OFFSET, 0)
  offset?: number;
}

export class AroundQuery {
  @QueryInt(0, 50, 5)
  around?: number;
}

export class ResetDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'the season to end; when it has ended already (a retried reset), its archive is answered again and nothing else changes',
  })
  @IsOptional()
  @IntRange(1, Number.MAX_SAFE_INTEGER)
  season?: number;
}
