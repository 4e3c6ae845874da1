import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../platform/idempotency/request-fingerprint';

/**
 * Idempotency-Key handling as pure decisions. Same key + same request → same stored result;
 * same key + different request → conflict. The request hash covers method, path and a canonical
 * JSON body (object keys sorted recursively), so key order and whitespace do not matter.
 * Keys are scoped per caller (API key / user) so two callers cannot collide.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_:.-]{8,128}$/;

export { canonicalJson };

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()}\n${path}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

export function idempotencyScope(callerId: string, key: string): string {
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) throw new RangeError('Idempotency-Key must match [A-Za-z0-9_:.-]{8,128}');
  return `${callerId}:${key}`;
}

export interface IdempotencyRecord<R = unknown> {
  requestHash: string;
  status: 'IN_PROGRESS' | 'COMPLETED';
  /** While IN_PROGRESS: after this instant another request may take over (crashed worker). */
  lockedUntil?: number;
  response?: R;
}

export type IdempotencyDecision<R = unknown> =
  | { action: 'PROCEED' }
  | { action: 'REPLAY'; response: R }
  | { action: 'CONFLICT' }
  | { action: 'IN_PROGRESS' };

/**
 * - no record → PROCEED (caller inserts IN_PROGRESS with its hash atomically, e.g. INSERT … ON CONFLICT DO NOTHING)
 * - different hash → CONFLICT (HTTP 422), regardless of status
 * - COMPLETED, same hash → REPLAY the stored response (status and body)
 * - IN_PROGRESS, same hash → IN_PROGRESS (HTTP 409, retry later) until lockedUntil, then PROCEED
 */
export function decideIdempotency<R>(
  record: IdempotencyRecord<R> | undefined,
  hash: string,
  nowMs: number,
): IdempotencyDecision<R> {
  if (!record) return { action: 'PROCEED' };
  if (record.requestHash !== hash) return { action: 'CONFLICT' };
  if (record.status === 'COMPLETED') return { action: 'REPLAY', response: record.response as R };
  if (record.lockedUntil !== undefined && nowMs >= record.lockedUntil) return { action: 'PROCEED' };
  return { action: 'IN_PROGRESS' };
}
