// Response bodies of the leaderboard API as the OpenAPI document shows them (documentation only:
// the service returns plain objects of these shapes).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const METADATA = { type: 'object', additionalProperties: true, description: 'the JSON object sent with the score' } as const;

export class BoardView {
  @ApiProperty({ example: 'global:weekly' }) id!: string;
  @ApiProperty({ enum: ['desc', 'asc'] }) order!: string;
  @ApiProperty({ enum: ['overwrite', 'best', 'increment'] }) updatePolicy!: string;
  @ApiProperty({ type: 'integer', example: 1 }) shards!: number;
  @ApiProperty({ type: 'string', nullable: true, example: '0 0 * * 1' }) resetSchedule!: string | null;
  @ApiProperty({ type: 'integer', example: 1, description: 'the current season (starts at 1, +1 per reset)' }) season!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** GET /leaderboards/:boardId: the board and its live season's player count. */
export class BoardDetail extends BoardView {
  @ApiProperty({ type: 'integer', example: 2, description: 'players with a score in the current season' }) players!: number;
}

export class BoardList {
  @ApiProperty({ type: [BoardView] }) boards!: BoardView[];
}

export class ScoreAccepted {
  @ApiProperty({ type: 'integer', example: 1 }) accepted!: number;
  @ApiProperty({ description: 'the Idempotency-Key, or a generated id' }) messageId!: string;
}

export class ScoresAccepted {
  @ApiProperty({ type: 'integer', example: 2 }) accepted!: number;
  @ApiProperty({ type: [String], description: 'one per entry, in order' }) messageIds!: string[];
}

export class RankedEntry {
  @ApiProperty({ type: 'integer', example: 1 }) rank!: number;
  @ApiProperty({ example: 'player-1' }) playerId!: string;
  @ApiProperty({ type: 'integer', example: 1200 }) score!: number;
  @ApiPropertyOptional(METADATA) metadata?: Record<string, unknown>;
}

export class TopPage {
  @ApiProperty() boardId!: string;
  @ApiProperty({ type: 'integer' }) season!: number;
  @ApiProperty({ type: 'integer', description: 'players on the board' }) total!: number;
  @ApiProperty({ type: [RankedEntry] }) entries!: RankedEntry[];
}

export class PlayerStanding {
  @ApiProperty() boardId!: string;
  @ApiProperty({ type: 'integer' }) season!: number;
  @ApiProperty() playerId!: string;
  @ApiProperty({ type: 'integer' }) score!: number;
  @ApiProperty({ type: 'integer', description: '1 = first' }) rank!: number;
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ description: 'share of players ranked below, 0..100' }) percentile!: number;
  @ApiPropertyOptional(METADATA) metadata?: Record<string, unknown>;
  @ApiProperty({ type: [RankedEntry], description: 'up to `around` entries above and below, in rank order' }) neighbours!: RankedEntry[];
}

export class RankOf {
  @ApiProperty() playerId!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'null when the player has no score' }) rank!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) score!: number | null;
}

export class RanksResult {
  @ApiProperty() boardId!: string;
  @ApiProperty({ type: 'integer' }) season!: number;
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ type: [RankOf], description: 'in the order asked' }) entries!: RankOf[];
}

export class ResetResult {
  @ApiProperty() boardId!: string;
  @ApiProperty({ type: 'integer' }) archivedSeason!: number;
  @ApiProperty({ type: 'integer' }) archivedEntries!: number;
  @ApiProperty({ type: 'integer', description: 'the new current season' }) season!: number;
}
