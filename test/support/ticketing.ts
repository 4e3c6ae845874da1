import type { INestApplicationContext } from '@nestjs/common';
import { KeyValueStore, LuaScript } from '../../src/platform/kv/key-value-store.port';
import { InProcessHotInventory } from '../../src/modules/ticketing/adapters/in-process-hot-inventory';
import { eventKeyPrefix, hotKeys } from '../../src/modules/ticketing/adapters/redis-hot-inventory';
import type { HotEventState } from '../../src/modules/ticketing/domain/hot-inventory';
import { HotInventory } from '../../src/modules/ticketing/ports/hot-inventory.port';
import { computeSignature } from '../../src/modules/ticketing/domain/webhook-signature';

/**
 * What the ticketing suites reach inside the module (its index.ts exports production surface only).
 */
export { eventKeyPrefix, hotKeys, RedisHotInventory } from '../../src/modules/ticketing/adapters/redis-hot-inventory';
export { InProcessHotInventory } from '../../src/modules/ticketing/adapters/in-process-hot-inventory';
export { HotInventory } from '../../src/modules/ticketing/ports/hot-inventory.port';
export { HoldDecision, HoldRequest, InventoryEvent, InventoryStrategy } from '../../src/modules/ticketing/ports/inventory-strategy.port';
export { ReconciliationService } from '../../src/modules/ticketing/application/reconciliation.service';
export { writeHolds } from '../../src/modules/ticketing/adapters/sql-hold-repository';
export { HoldRepository } from '../../src/modules/ticketing/ports/hold-repository.port';
export { OrdersService } from '../../src/modules/ticketing/application/orders.service';
export { PaymentProvider } from '../../src/modules/ticketing/ports/payment-provider.port';

/** The counter form of the inventory invariant: available + held + sold = capacity, all whole and >= 0. */
export function checkCounts(c: { capacity: number; available: number; held: number; sold: number }): boolean {
  return [c.available, c.held, c.sold].every((n) => Number.isInteger(n) && n >= 0) && c.available + c.held + c.sold === c.capacity;
}

/** Moves the Redis stock counter without the app knowing (drift), as INCRBY: the TTL stays. */
const INCR_BY: LuaScript<number> = { name: 'test_incr_by', lua: `return redis.call('INCRBY', KEYS[1], ARGV[1])`, fromRedis: Number };

/**
 * An event's hot state behind either HotInventory adapter, to play in a test what a crash or a
 * Redis flush leaves (the in-process adapter's state is private to production code).
 */

export function hotState(app: INestApplicationContext, namespace: string) {
  const hot = app.get(HotInventory);
  if (hot instanceof InProcessHotInventory) {
    type State = HotEventState & { claims: Map<string, unknown>; claimsLoaded: boolean };
    const events = (hot as unknown as { events: Map<string, State> }).events;
    const ga = (id: string) => events.get(id) as State & { free: number };
    return {
      gaFree: async (id: string) => ga(id)?.free ?? 0,
      addGaFree: async (id: string, by: number) => void (ga(id).free += by),
      /** The free count lost (a deleted Redis key reads as 0; the ready marker stays). */
      dropGaFree: async (id: string) => void (ga(id).free = 0),
      /** Everything of the event gone, as after a Redis flush; true when there was something. */
      flush: async (id: string) => events.delete(id),
      dropClaims: async (id: string) => {
        events.get(id)?.claims.clear();
        if (events.has(id)) events.get(id)!.claimsLoaded = false;
      },
    };
  }
  const kv = app.get(KeyValueStore);
  const k = (id: string) => hotKeys(namespace, id);
  return {
    gaFree: async (id: string) => Number((await kv.get(k(id).stock)) ?? '0'),
    addGaFree: async (id: string, by: number) => void (await kv.runScript(INCR_BY, [k(id).stock], [by])),
    dropGaFree: async (id: string) => void (await kv.del([k(id).stock])),
    flush: async (id: string) => (await kv.deleteByPrefix(eventKeyPrefix(namespace, id))) > 0,
    dropClaims: async (id: string) => void (await kv.deleteByPrefix(`${eventKeyPrefix(namespace, id)}:holdkey`)),
  };
}

/** The payment provider's side of the webhook: the `tetrad-signature` header for `payload`. */
export function signWebhook(secret: string, payload: string | Buffer, timestampSec: number): string {
  return `t=${timestampSec},v1=${computeSignature(secret, timestampSec, payload)}`;
}
