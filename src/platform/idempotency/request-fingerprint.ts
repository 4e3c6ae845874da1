import { createHash } from 'node:crypto';

/**
 * Canonical JSON (object keys sorted recursively, undefined properties dropped): two requests that
 * differ only in key order or whitespace have the same text, so the same fingerprint.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in body');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`not JSON: ${typeof value}`);
}

/** SHA-256 (hex) of the canonical JSON of a request: what an Idempotency-Key is bound to. */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/**
 * An identity built from several caller-chosen parts that no two different tuples share: each part
 * is prefixed by its length, so `("a", "b:c")` and `("a:b", "c")` stay apart.
 */
export function tupleKey(...parts: string[]): string {
  return parts.map((p) => `${p.length}:${p}`).join('');
}
