/**
 * What the ticketing suites reach inside the module (its index.ts exports production surface only).
 */
export { eventKeyPrefix, holdKeyClaim } from '../../src/modules/ticketing/adapters/hold-idempotency-scripts';
export { HoldDecision, HoldRequest, InventoryEvent, InventoryStrategy } from '../../src/modules/ticketing/ports/inventory-strategy.port';
export { PostgresInventoryStrategy } from '../../src/modules/ticketing/adapters/postgres-inventory.strategy';
export { RedisInventoryStrategy } from '../../src/modules/ticketing/adapters/redis-inventory.strategy';

/** The counter form of the inventory invariant: available + held + sold = capacity, all whole and >= 0. */
export function checkCounts(c: { capacity: number; available: number; held: number; sold: number }): boolean {
  return [c.available, c.held, c.sold].every((n) => Number.isInteger(n) && n >= 0) && c.available + c.held + c.sold === c.capacity;
}
export { TicketingService } from '../../src/modules/ticketing/ticketing.service';
export { TicketingOrders } from '../../src/modules/ticketing/application/orders.service';
export { PaymentProvider } from '../../src/modules/ticketing/ports/payment-provider.port';
