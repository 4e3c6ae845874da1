import { AppError } from '../errors/app-error';

/** The same Idempotency-Key was sent with a different request (RFC draft: 422). */
export class IdempotencyKeyReused extends AppError {
  constructor() {
    super('unprocessable', 'idempotency_key_reused', 'this Idempotency-Key was used with a different request');
  }
}

/** The first request with this key is still running: retry shortly (409). */
export class RequestInProgress extends AppError {
  constructor() {
    super('conflict', 'request_in_progress', 'a request with this Idempotency-Key is still in progress', { retryAfterSeconds: 1 });
  }
}

/** No Idempotency-Key header, or not 1-128 visible ASCII characters (400). */
export class IdempotencyKeyRequired extends AppError {
  constructor() {
    super('invalid', 'idempotency_key_required', 'an Idempotency-Key header (1-128 visible ASCII characters) is required');
  }
}
