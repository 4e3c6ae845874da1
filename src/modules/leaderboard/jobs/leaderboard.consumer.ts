import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Equals, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import { ConsumeBatch, EventBatch } from '../../../platform/messaging/event-bus.transport';
import { LeaderboardService, SCORES_TOPIC, ScoreMessage } from '../application/leaderboard.service';

/** A `leaderboard.scores` message as LeaderboardService.submit writes it (fields the rank store relies on). */
export class ScoreMessageDto implements ScoreMessage {
  @IsString() @IsNotEmpty() boardId!: string;
  @IsString() @IsNotEmpty() playerId!: string;
  @IsInt() @Min(Number.MIN_SAFE_INTEGER) @Max(Number.MAX_SAFE_INTEGER) score!: number;
  @IsOptional() @IsObject() metadata?: Record<string, unknown>;
  @IsString() @IsNotEmpty() messageId!: string;
  @IsInt() @Min(0) seq!: number;
  @IsOptional() @Equals(true) keyed?: true;
}

/**
 * Worker role: applies `leaderboard.scores` to the rank store, at least once (the service dedupes a
 * redelivered batch by log position). An invalid message is skipped by the transport (offset committed
 * with its batch, counted in `event_bus_rejected_messages_total` and `leaderboard_writes_total{outcome="malformed"}`).
 * Applying a batch is a few Redis round trips plus an offset commit: every partition runs at once
 * (order per partition, and so per player, is kept).
 */
@Controller()
export class LeaderboardScoreConsumer {
  constructor(private readonly service: LeaderboardService) {}

  @ConsumeBatch({ topic: SCORES_TOPIC, group: 'leaderboard.scores-applier', message: ScoreMessageDto, partitionsConcurrently: 'all' })
  apply(@Payload() batch: EventBatch<ScoreMessageDto>): Promise<void> {
    // The log position dedupes redeliveries (see APPLY_SCORES).
    const writes = batch.messages.map(({ data, raw }) => ({ ...data, position: `${raw.partition}:${raw.offset}` }));
    const oldest = Math.min(batch.messages[0]?.raw.timestamp ?? Infinity, batch.rejected[0]?.timestamp ?? Infinity);
    return this.service.applyFromLog(writes, oldest, batch.rejected.length);
  }
}
