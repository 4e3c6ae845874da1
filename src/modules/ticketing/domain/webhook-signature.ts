import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Payment-provider webhook signing (HMAC-SHA256), Stripe-style header:
 *   `t=<unix seconds>,v1=<hex hmac of "<t>.<raw body>">`  (several v1 entries allowed)
 * Verification checks the timestamp is within ±TOLERANCE_SECONDS of now, then compares against
 * every configured secret (rotation) in constant time. Replay detection is a separate step: the
 * verifier returns a replay key (the event id when known, else a hash of the signature) that the
 * caller records for replayTtlSeconds (2 × tolerance suffices: older deliveries fail the timestamp
 * check anyway), as a key/value entry set only if absent (PaymentWebhookService).
 */
export const TOLERANCE_SECONDS = 300;

export function computeSignature(secret: string, timestampSec: number, payload: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(payload).digest('hex');
}

export interface ParsedSignatureHeader {
  timestamp: number;
  signatures: string[];
}

export function parseSignatureHeader(header: string): ParsedSignatureHeader | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') {
      if (!/^\d{1,15}$/.test(v) || timestamp !== undefined) return undefined;
      timestamp = Number(v);
    } else if (k === 'v1') {
      if (/^[0-9a-f]{64}$/.test(v)) signatures.push(v);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

export type WebhookVerification =
  | { ok: true; timestamp: number; replayKey: string; replayTtlSeconds: number }
  | { ok: false; reason: 'MALFORMED_HEADER' | 'TIMESTAMP_OUT_OF_TOLERANCE' | 'BAD_SIGNATURE' };

export interface VerifyWebhookInput {
  secrets: readonly string[];
  payload: string | Buffer;
  header: string | undefined;
  nowSec: number;
  /** Provider event id, when the caller has parsed it; makes replay detection per event. */
  eventId?: string;
}

export function verifyWebhook(input: VerifyWebhookInput): WebhookVerification {
  const parsed = input.header ? parseSignatureHeader(input.header) : undefined;
  if (!parsed) return { ok: false, reason: 'MALFORMED_HEADER' };
  if (Math.abs(input.nowSec - parsed.timestamp) > TOLERANCE_SECONDS) return { ok: false, reason: 'TIMESTAMP_OUT_OF_TOLERANCE' };
  let matched: string | undefined;
  for (const secret of input.secrets) {
    const expected = Buffer.from(computeSignature(secret, parsed.timestamp, input.payload), 'hex');
    for (const sig of parsed.signatures) {
      if (timingSafeEqual(expected, Buffer.from(sig, 'hex'))) matched = sig;
    }
  }
  if (matched === undefined) return { ok: false, reason: 'BAD_SIGNATURE' };
  const replayKey = input.eventId !== undefined ? `evt:${input.eventId}` : `sig:${createHash('sha256').update(matched).digest('hex')}`;
  return { ok: true, timestamp: parsed.timestamp, replayKey, replayTtlSeconds: 2 * TOLERANCE_SECONDS };
}
