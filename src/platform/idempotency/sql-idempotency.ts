import type { DataSource } from 'typeorm';
import { IdempotencyStore, IdempotentRequest } from './idempotency-store';

export { STALE_IN_FLIGHT_MS } from './idempotency-store';

/** Transitional, for ticketing's call sites until they inject IdempotencyStore (then delete this file). */
export function runIdempotent<T>(req: IdempotentRequest<T> & { ds: DataSource }): Promise<T> {
  return new IdempotencyStore(req.ds).run(req);
}
