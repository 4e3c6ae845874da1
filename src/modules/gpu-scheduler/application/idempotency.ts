import type { DataSource } from 'typeorm';
import { runIdempotent } from '../../../platform/idempotency/sql-idempotency';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';

/** Printable ASCII, 1..128: what requireIdempotencyKey accepts (the OpenAPI document shows it). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function requireIdempotencyKey(key: string | undefined): string {
  if (!key || !IDEMPOTENCY_KEY.test(key)) {
    throw new GpuError('invalid', GpuCode.IdempotencyKeyRequired, 'an Idempotency-Key header (1-128 visible ASCII characters) is required');
  }
  return key;
}

/**
 * Runs `run` once per (scope, key) over the platform idempotency_keys table: a replay with the same
 * body returns the stored response, a different body is 422 `idempotency_key_reused`, a replay
 * while the first is still running is 409; a failed first attempt frees the key. No takeover of a
 * stale in-flight key: a task submit has no intent id to recover a crashed attempt by.
 */
export function idempotent<T>(ds: DataSource, scope: string, key: string, request: unknown, run: () => Promise<T>): Promise<T> {
  return runIdempotent({ ds, scope, key, request, intent: '', run });
}
