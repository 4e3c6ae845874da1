import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsString, MaxLength } from 'class-validator';
import { IntRange, OptionalProperty, QueryInt, StringMatching } from '../../../platform/validation/int-range';

const SAFE = Number.MAX_SAFE_INTEGER;
/** Past any real board (and within PostgreSQL's OFFSET and Redis's ranks); deep top pages have their own cap. */
const MAX_OFFSET = 1_000_000_000;

export class CreateLeaderboardDto {
  @ApiProperty({ example: 'global:weekly', pattern: '^[A-Za-z0-9:_-]{1,64}$' })
  @StringMatching(/^[A-Za-z0-9:_-]{1,64}$/)
  id!: string;

  @OptionalProperty({ enum: ['desc', 'asc'], default: 'desc' })
  @IsIn(['desc', 'asc'])
  order?: 'desc' | 'asc';

  @OptionalProperty({ enum: ['overwrite', 'best', 'increment'], default: 'overwrite' })
  @IsIn(['overwrite', 'best', 'increment'])
  updatePolicy?: 'overwrite' | 'best' | 'increment';

  @OptionalProperty({ minimum: 1, maximum: 1024, default: 1 })
  @IntRange(1, 1024)
  shards?: number;

  @OptionalProperty({ description: 'cron expression, stored only (no scheduler yet)', example: '0 0 * * 1' })
  @IsString()
  @MaxLength(128)
  resetSchedule?: string;

  @OptionalProperty({ type: 'object', additionalProperties: true })
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class SubmitScoreDto {
  @ApiProperty({ description: 'safe integer', example: 1200 })
  @IntRange(-SAFE, SAFE)
  score!: number;

  @OptionalProperty({ type: 'object', additionalProperties: true, description: 'JSON object ≤ 1 KiB' })
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class BatchScoreEntryDto extends SubmitScoreDto {
  @ApiProperty({ example: 'player-1' })
  @StringMatching(/^[A-Za-z0-9:_.@-]{1,128}$/)
  playerId!: string;

  @OptionalProperty({ description: 'idempotency id: a retried entry with the same id applies once' })
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
  @OptionalProperty({ type: [BatchScoreEntryDto], maxItems: 1000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  entries?: BatchScoreEntryDto[];

  @OptionalProperty({ type: [BatchScoreEntryDto], maxItems: 1000, description: 'alias of entries' })
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
  @OptionalProperty({
    minimum: 1,
    description: 'the season to end; when it has ended already (a retried reset), its archive is answered again and nothing else changes',
  })
  @IntRange(1, Number.MAX_SAFE_INTEGER)
  season?: number;
}
