import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, Matches } from 'class-validator';
import { IntRange, StringLength } from '../../../platform/validation/int-range';

/** `waitingRoom` of POST /events (optional; additive). */
export class WaitingRoomDto {
  @ApiProperty({ example: true })
  @IsBoolean()
  enabled!: boolean;

  @ApiProperty({ example: 50, description: 'queue numbers admitted per second, counted from salesOpenAt' })
  @IntRange(1, 100_000)
  admitPerSecond!: number;
}

export class JoinQueueDto {
  @ApiProperty({ example: 'user-1' })
  @StringLength(1, 64)
  @Matches(/^[A-Za-z0-9_.:@-]+$/, { message: 'userId must be of [A-Za-z0-9_.:@-]' })
  userId!: string;
}
