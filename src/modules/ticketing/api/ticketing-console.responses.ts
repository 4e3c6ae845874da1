// Response bodies of the ticketing console views as the OpenAPI document shows them (documentation only).
import { ApiProperty } from '@nestjs/swagger';

class EventItem {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['SEATED', 'GA'] }) kind!: string;
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ type: 'integer' }) capacity!: number;
}

export class EventList {
  @ApiProperty({ type: [EventItem] }) events!: EventItem[];
}

class SeatStateView {
  @ApiProperty() seatId!: string;
  @ApiProperty() section!: string;
  @ApiProperty({ enum: ['AVAILABLE', 'HELD', 'SOLD'] }) status!: string;
}

export class SeatMapView {
  @ApiProperty() eventId!: string;
  @ApiProperty({ type: [SeatStateView] }) seats!: SeatStateView[];
}

class RecentOrder {
  @ApiProperty() orderId!: string;
  @ApiProperty({ enum: ['PENDING', 'CONFIRMED', 'FAILED'] }) status!: string;
  @ApiProperty() amount!: number;
  @ApiProperty({ type: 'string', nullable: true }) failureReason!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class EventOrdersView {
  @ApiProperty() eventId!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { PENDING: 1, CONFIRMED: 4, FAILED: 0 } })
  byStatus!: Record<string, number>;
  @ApiProperty({ type: [RecentOrder] }) recent!: RecentOrder[];
}

export class WaitingRoomLineView {
  @ApiProperty() eventId!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: 'integer' }) joined!: number;
  @ApiProperty({ type: 'integer' }) admitted!: number;
  @ApiProperty({ type: 'integer' }) waiting!: number;
  @ApiProperty() admitPerSecond!: number;
}
