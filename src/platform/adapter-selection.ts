import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/**
 * Binds a module's port to its full-profile adapter (Redis + Lua, Kafka, ...) or to its in-process
 * one, by the profile: the one place a module's adapter is chosen, so no module code asks which
 * profile it runs on. Both factories receive the `inject` dependencies, in order:
 *     selectAdapter(RankStore, { inject: [KeyValueStore, AppConfig], full: (kv, c) => new RedisRankStore(kv, c.NAMESPACE), inProcess: ... })
 */
export function selectAdapter<T>(
  port: abstract new (...args: never[]) => T,
  adapters: { inject: InjectionToken[]; full: (...deps: never[]) => T; inProcess: (...deps: never[]) => T },
): FactoryProvider<T> {
  return {
    provide: port,
    inject: [AppConfig, ...adapters.inject],
    useFactory: (config: AppConfig, ...deps: unknown[]) => (config.isFull ? adapters.full : adapters.inProcess)(...(deps as never[])),
  };
}
