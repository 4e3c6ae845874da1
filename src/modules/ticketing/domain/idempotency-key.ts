/** An Idempotency-Key header: 1-128 visible ASCII characters (the rule every ticketing write checks). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;
