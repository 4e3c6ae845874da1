import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsISO8601, IsNumber, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { MaxDecimalPlaces } from '../../../platform/validation/max-decimal-places';
import { WaitingRoomDto } from './waiting-room.dto';
import { IntRange, OptionalProperty, stacked, StringLength, StringMatching } from '../../../platform/validation/int-range';

const ID = /^[A-Za-z0-9_.:@-]+$/;

/** A whole number in [1, max]. */
const Count = (max: number, example: number) => stacked(ApiProperty({ example }), IntRange(1, max));
/** A price: at most 2 decimals (stored in cents), 0..1,000,000. */
const Price = (example: number) => stacked(ApiProperty({ example }), IsNumber({ allowNaN: false, allowInfinity: false }), MaxDecimalPlaces(2), Min(0), Max(1_000_000));

export class SectionDto {
  @ApiProperty({ example: 'A' })
  @StringMatching(/^[A-Za-z0-9_]{1,32}$/, { message: 'name must be 1-32 of [A-Za-z0-9_]' })
  name!: string;

  @Count(1000, 10)
  rows!: number;

  @Count(1000, 20)
  seatsPerRow!: number;

  @Price(49.5)
  price!: number;
}

export class GeneralAdmissionDto {
  @Count(100_000, 1000)
  capacity!: number;

  @Price(25)
  price!: number;
}

export class CreateEventDto {
  @ApiProperty()
  @StringLength(1, 200)
  name!: string;

  @ApiProperty({ example: '2030-01-01T20:00:00Z' })
  @IsISO8601({ strict: true })
  startsAt!: string;

  @OptionalProperty()
  @IsISO8601({ strict: true })
  salesOpenAt?: string;

  @OptionalProperty({ default: 300 })
  @IntRange(1, 86_400)
  holdTtlSeconds?: number;

  @OptionalProperty({ default: 4 })
  @IntRange(1, 100)
  maxPerUser?: number;

  @OptionalProperty({ type: [SectionDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => SectionDto)
  sections?: SectionDto[];

  @OptionalProperty({ type: GeneralAdmissionDto })
  @ValidateNested()
  @Type(() => GeneralAdmissionDto)
  generalAdmission?: GeneralAdmissionDto;

  @OptionalProperty({ type: WaitingRoomDto, description: 'when enabled, holds need an admitted Waiting-Room-Token' })
  @ValidateNested()
  @Type(() => WaitingRoomDto)
  waitingRoom?: WaitingRoomDto;
}

export class CreateHoldDto {
  @ApiProperty({ example: 'user-1' })
  @StringLength(1, 64)
  @Matches(ID, { message: 'userId must be of [A-Za-z0-9_.:@-]' })
  userId!: string;

  @OptionalProperty({ example: ['A-1-1'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 80, { each: true })
  seatIds?: string[];

  @OptionalProperty({ example: 2 })
  @IntRange(1, 100)
  quantity?: number;
}

export class CheckoutDto {
  @ApiProperty({ example: 'card', description: 'simulated provider: `decline`, `flaky`, `error` are scripted' })
  @StringLength(1, 40)
  paymentMethod!: string;

  @OptionalProperty({ description: 'when given, must own the hold' })
  @StringLength(1, 64)
  @Matches(ID)
  userId?: string;
}

export class ReleaseQueryDto {
  @IsOptional()
  @StringLength(1, 64)
  userId?: string;
}

export class AvailabilityQueryDto {
  @IsOptional()
  @StringMatching(/^(true|false)$/)
  seats?: string;
}
