import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';

const TTL = '24 hours';

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/** Printable ASCII, 1..128: what requireIdempotencyKey accepts (the OpenAPI document shows it). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function requireIdempotencyKey(key: string | undefined): string {
  if (!key || !IDEMPOTENCY_KEY.test(key)) {
    throw new GpuError('invalid', GpuCode.IdempotencyKeyRequired, 'an Idempotency-Key header (1-128 visible ASCII characters) is required');
  }
  return key;
}

/**
 * Runs `run` once per (scope, key) over the platform idempotency_keys table (the ticketing
 * pattern): a replay with the same body returns the stored response, a different body is 422, a
 * replay while the first is still running is 409; a failed first attempt frees the key.
 */
export async function idempotent<T>(ds: DataSource, scope: string, key: string, request: unknown, run: () => Promise<T>): Promise<T> {
  const hash = createHash('sha256').update(canonical(request)).digest('hex');
  const inserted: unknown[] = await ds.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash, status, expires_at)
     VALUES ($1, $2, $3, 'PENDING', now() + interval '${TTL}')
     ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
    [scope, key, hash],
  );
  if (inserted.length === 0) {
    const rows: { request_hash: string; status: string; response: T | null }[] = await ds.query(
      `SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    const prior = rows[0];
    if (!prior) return idempotent(ds, scope, key, request, run);
    if (prior.request_hash !== hash) {
      throw new GpuError('unprocessable', GpuCode.IdempotencyKeyReused, 'this Idempotency-Key was used with a different request');
    }
    if (prior.status === 'COMPLETED' && prior.response !== null) return prior.response;
    throw new GpuError('conflict', GpuCode.RequestInProgress, 'a request with this Idempotency-Key is still in progress', { retryAfterSeconds: 1 });
  }
  let result: T;
  try {
    result = await run();
  } catch (err) {
    await ds.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2`, [scope, key]).catch(() => undefined);
    throw err;
  }
  await ds.query(`UPDATE idempotency_keys SET status = 'COMPLETED', response = $3 WHERE scope = $1 AND key = $2`, [scope, key, JSON.stringify(result)]);
  return result;
}
