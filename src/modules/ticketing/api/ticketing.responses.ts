// Response bodies of the ticketing API as the OpenAPI document shows them (documentation only:
// the services return plain objects of these shapes).
import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';

export class EventCreated {
  @ApiProperty({ example: '01a22c8d-fde9-75db-bf6e-3e2a8f589b95' }) id!: string;
  @ApiProperty({ type: 'integer', description: 'places on sale' }) capacity!: number;
}

class SectionView {
  @ApiProperty() name!: string;
  @ApiProperty({ type: 'integer' }) rows!: number;
  @ApiProperty({ type: 'integer' }) seatsPerRow!: number;
  @ApiProperty() price!: number;
}

class GeneralAdmissionView {
  @ApiProperty({ type: 'integer' }) capacity!: number;
  @ApiProperty() price!: number;
}

/** Inline rather than a class: OpenAPI 3.0 ignores `nullable` beside a `$ref`. */
const WAITING_ROOM_VIEW: ApiPropertyOptions = {
  type: 'object',
  nullable: true,
  properties: { enabled: { type: 'boolean' }, admitPerSecond: { type: 'integer' } },
  required: ['enabled', 'admitPerSecond'],
};

export class EventView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['SEATED', 'GA'] }) kind!: string;
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) salesOpenAt!: string | null;
  @ApiProperty({ type: 'integer' }) holdTtlSeconds!: number;
  @ApiProperty({ type: 'integer' }) maxPerUser!: number;
  @ApiProperty({ type: 'integer' }) capacity!: number;
  @ApiProperty(WAITING_ROOM_VIEW) waitingRoom!: { enabled: boolean; admitPerSecond: number } | null;
  @ApiPropertyOptional({ type: [SectionView], description: 'seated events' }) sections?: SectionView[];
  @ApiPropertyOptional({ type: GeneralAdmissionView, description: 'general-admission events' }) generalAdmission?: GeneralAdmissionView;
}

class Counts {
  @ApiProperty({ type: 'integer' }) capacity!: number;
  @ApiProperty({ type: 'integer' }) available!: number;
  @ApiProperty({ type: 'integer' }) held!: number;
  @ApiProperty({ type: 'integer' }) sold!: number;
}

class SectionCounts extends Counts {
  @ApiProperty({ description: '`GA` for general admission' }) name!: string;
}

export class Availability extends Counts {
  @ApiProperty() eventId!: string;
  @ApiProperty({ type: [SectionCounts] }) sections!: SectionCounts[];
  @ApiPropertyOptional({ type: [String], description: 'free seat ids, with `?seats=true`', example: ['A-1-1'] }) seats?: string[];
}

export class HoldView {
  @ApiProperty() holdId!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty() userId!: string;
  @ApiPropertyOptional({ enum: ['ACTIVE', 'CHECKOUT', 'CONVERTED', 'RELEASED', 'EXPIRED'], description: 'on GET' }) status?: string;
  @ApiProperty({ type: [String], example: ['A-1-1'] }) seatIds!: string[];
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty() amount!: number;
}

export class HoldReleased {
  @ApiProperty() holdId!: string;
  @ApiProperty({ enum: ['RELEASED'] }) status!: string;
}

export class CheckoutAccepted {
  @ApiProperty() orderId!: string;
  @ApiProperty() holdId!: string;
  @ApiProperty({ enum: ['PENDING', 'CONFIRMED', 'FAILED', 'EXPIRED'] }) status!: string;
}

class Ticket {
  @ApiProperty() code!: string;
  @ApiProperty() seatId!: string;
}

export class OrderView {
  @ApiProperty() orderId!: string;
  @ApiProperty() holdId!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ['PENDING', 'CONFIRMED', 'FAILED', 'EXPIRED'] }) status!: string;
  @ApiProperty() amount!: number;
  @ApiProperty() paymentMethod!: string;
  @ApiProperty({ type: 'string', nullable: true }) failureReason!: string | null;
  @ApiProperty({ type: [Ticket] }) tickets!: Ticket[];
  @ApiProperty({ type: 'integer', description: '1 when created, +1 per state change' }) version!: number;
  @ApiProperty({ format: 'date-time', description: 'payment deadline' }) expiresAt!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class UserOrders {
  @ApiProperty() userId!: string;
  @ApiProperty({ type: [OrderView] }) orders!: OrderView[];
}

export class WebhookReceived {
  @ApiProperty({ enum: [true] }) received!: boolean;
  @ApiProperty() orderId!: string;
  @ApiProperty({ description: 'false when the order had already reached that outcome' }) applied!: boolean;
}

/** The body the payment provider posts (checked by the webhook itself, not by a DTO). */
export class PaymentWebhookEvent {
  @ApiProperty({ description: 'the provider\'s event id (replays are refused)' }) id!: string;
  @ApiProperty({ enum: ['payment.succeeded', 'payment.failed'] }) type!: string;
  @ApiProperty() orderId!: string;
  @ApiPropertyOptional() reference?: string;
  @ApiPropertyOptional() reason?: string;
}

export class QueueView {
  @ApiProperty() eventId!: string;
  @ApiProperty({ description: 'send it as Waiting-Room-Token on POST …/holds' }) token!: string;
  @ApiProperty({ type: 'integer', description: 'your number in line (1 = first to join)' }) queueNumber!: number;
  @ApiProperty({ type: 'integer', description: 'people still waiting up to and including you; 0 once admitted' }) position!: number;
  @ApiProperty() admitted!: boolean;
  @ApiProperty({ type: 'integer' }) estimatedWaitSeconds!: number;
  @ApiProperty({ type: 'integer' }) admitPerSecond!: number;
}
