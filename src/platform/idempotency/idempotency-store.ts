import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rowsOf } from '../database/rows-of';
import { IdempotencyKeyRequired, IdempotencyKeyReused, RequestInProgress } from './idempotency.errors';
import { requestFingerprint } from './request-fingerprint';

const TTL = '24 hours';
/** An in-flight key older than this belongs to a crashed (or hung) attempt: a replay takes it over. */
export const STALE_IN_FLIGHT_MS = 30_000;
/** Printable ASCII, 1..128: the Idempotency-Key header every idempotent route accepts (the OpenAPI document shows it). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

export interface IdempotentRequest<T> {
  /** Namespace of the keys (route and tenant): equal keys in different scopes never meet. */
  scope: string;
  /** The Idempotency-Key header as received: absent or malformed is 400 `idempotency_key_required`. */
  key: string | undefined;
  /** What the key is bound to: a replay with another request is IdempotencyKeyReused (422). */
  request: unknown;
  /**
   * An id minted for this key's work (e.g. the order id to create), stored with the in-flight key.
   * A takeover runs `run` again with the SAME intent, so `run` can find what a crashed attempt
   * already committed under it and answer from that instead of doing the work twice.
   */
  intent?: string;
  run: (intent: string) => Promise<T>;
  /** Take over an in-flight key after this long; omit to answer 409 until the key expires. */
  staleAfterMs?: number;
}

interface KeyRow<T> {
  request_hash: string;
  status: 'PENDING' | 'COMPLETED';
  response: T | { intent?: string } | null;
  stale: boolean;
}

export function requireIdempotencyKey(key: string | undefined): string {
  if (!key || !IDEMPOTENCY_KEY_PATTERN.test(key)) throw new IdempotencyKeyRequired();
  return key;
}

/**
 * The one idempotency store: runs a request once per (scope, key) over the platform
 * `idempotency_keys` table (24 h), on PostgreSQL and PGlite alike. A replay with the same request
 * answers the stored response, another request is 422, a replay while the first still runs is 409
 * — until the first is `staleAfterMs` old, when the replay takes the key over and runs again under
 * the first attempt's intent. A failed attempt frees the key, so the client may retry it.
 * (Writes applied later by a log consumer bind keys with claimFingerprints instead.)
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly ds: DataSource) {}

  async run<T>(req: IdempotentRequest<T>): Promise<T> {
    const { scope } = req;
    const key = requireIdempotencyKey(req.key);
    const hash = requestFingerprint(req.request);
    for (;;) {
      const inserted: unknown[] = await this.ds.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, status, response, expires_at)
         VALUES ($1, $2, $3, 'PENDING', $4::jsonb, now() + interval '${TTL}')
         ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
        [scope, key, hash, JSON.stringify({ intent: req.intent ?? '' })],
      );
      if (inserted.length > 0) return this.attempt(req, key, req.intent ?? '');
      const rows: KeyRow<T>[] = await this.ds.query(
        `SELECT request_hash, status, response, created_at < now() - $3 * interval '1 millisecond' AS stale
         FROM idempotency_keys WHERE scope = $1 AND key = $2`,
        [scope, key, req.staleAfterMs ?? 0],
      );
      const prior = rows[0];
      if (!prior) continue; // expired or freed since the INSERT: claim it afresh
      if (prior.request_hash !== hash) throw new IdempotencyKeyReused();
      if (prior.status === 'COMPLETED' && prior.response !== null) return prior.response as T;
      if (req.staleAfterMs === undefined || !prior.stale) throw new RequestInProgress();
      const intent = (prior.response as { intent?: string } | null)?.intent ?? req.intent ?? '';
      // Compare-and-set on the row's age: of several replays arriving together one takes it over.
      const taken = rowsOf(
        await this.ds.query(
          `UPDATE idempotency_keys SET created_at = now(), response = $4::jsonb
           WHERE scope = $1 AND key = $2 AND status = 'PENDING' AND created_at < now() - $3 * interval '1 millisecond'
           RETURNING key`,
          [scope, key, req.staleAfterMs, JSON.stringify({ intent })],
        ),
      );
      if (taken.length > 0) return this.attempt(req, key, intent);
    }
  }

  private async attempt<T>(req: IdempotentRequest<T>, key: string, intent: string): Promise<T> {
    const { scope } = req;
    let result: T;
    try {
      result = await req.run(intent);
    } catch (err) {
      await this.ds.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'PENDING'`, [scope, key]).catch(() => undefined);
      throw err;
    }
    await this.ds.query(`UPDATE idempotency_keys SET status = 'COMPLETED', response = $3 WHERE scope = $1 AND key = $2`, [scope, key, JSON.stringify(result)]);
    return result;
  }
}
