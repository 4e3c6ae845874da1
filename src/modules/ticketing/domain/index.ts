export * from './event-layout';
export * from './hold-rules';
export * from './order-state';
export * from './webhook-signature';
