import { AppError } from '../../platform/errors/app-error';

/** Stable codes of the ticketing module; the platform filter maps the kind to an HTTP status. */
export enum TicketingCode {
  EventNotFound = 'event_not_found', HoldNotFound = 'hold_not_found', OrderNotFound = 'order_not_found',
  InvalidEvent = 'invalid_event', InvalidHold = 'invalid_hold', UnknownSeats = 'unknown_seats',
  /** A payment webhook body that is not {id, type, orderId, reference?, reason?}: the wire code stays the one clients always got. */
  InvalidWebhookBody = 'invalid_hold',
  SoldOut = 'sold_out', SeatUnavailable = 'seat_unavailable', PerUserLimit = 'per_user_limit', SalesNotOpen = 'sales_not_open',
  HoldNotOwned = 'hold_not_owned', HoldExpired = 'hold_expired', HoldNotActive = 'hold_not_active', InventoryBusy = 'inventory_busy',
  BadSignature = 'bad_signature', WaitingRoomDisabled = 'waiting_room_disabled', WaitingRoomTokenNotFound = 'waiting_room_token_not_found',
  WaitingRoomTokenRequired = 'waiting_room_token_required', WaitingRoomTokenInvalid = 'waiting_room_token_invalid',
  WaitingRoomNotAdmitted = 'waiting_room_not_admitted',
}

export class TicketingError extends AppError<TicketingCode> {}
