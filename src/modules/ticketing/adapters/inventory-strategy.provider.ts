import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Clock } from '../../../platform/clock/clock';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { InventoryStrategy } from '../ports/inventory-strategy.port';
import { PostgresInventoryStrategy } from './postgres-inventory.strategy';
import { RedisInventoryStrategy } from './redis-inventory.strategy';

/** TICKETING_HOLD_STRATEGY picks how holds are decided; one strategy per process. */
export const inventoryStrategyProvider: Provider = {
  provide: InventoryStrategy,
  useFactory: (config: AppConfig, ds: DataSource, kv: KeyValueStore, clock: Clock): InventoryStrategy => {
    const redis = new RedisInventoryStrategy(ds, kv, clock, config.NAMESPACE);
    if (config.TICKETING_HOLD_STRATEGY !== 'postgres') return redis;
    return new PostgresInventoryStrategy(ds, (eventId) => redis.forget(eventId));
  },
  inject: [AppConfig, DataSource, KeyValueStore, Clock],
};
