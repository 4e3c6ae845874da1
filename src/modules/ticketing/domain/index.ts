export * from './order-state';
export * from './idempotency-key';
export * from './webhook-signature';
