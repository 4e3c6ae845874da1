export * from './event-config';
export * from './hold-rules';
export * from './order-state';
export * from './idempotency';
export * from './inventory-invariant';
export * from './webhook-signature';
