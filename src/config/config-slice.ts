import type { Provider } from '@nestjs/common';
import { AppConfig } from './app-config';

type Knob = keyof AppConfig;
export interface ConfigSliceClass<K extends Knob> {
  new (config: AppConfig): Pick<AppConfig, K>;
}

/**
 * A typed slice of AppConfig: the knobs one module (or platform part) reads, and nothing else.
 * The env parsing and validation stay in loadConfig (once, at boot, every problem at once); a slice
 * copies the named fields of the validated AppConfig (methods bound, getters read once). The class
 * is its own injection token:
 *     export class LeaderboardConfig extends configSlice('NAMESPACE', 'LEADERBOARD_TOP_CACHE_MS', 'hasRole') {}
 *     providers: [provideConfigSlice(LeaderboardConfig)]            // in leaderboard.module.ts
 *     constructor(private readonly config: LeaderboardConfig) {}     // tests: new LeaderboardConfig(loadConfig({...}))
 */
export function configSlice<K extends Knob>(...knobs: K[]): ConfigSliceClass<K> {
  class Slice {
    constructor(config: AppConfig) {
      for (const k of knobs) {
        const v: unknown = config[k];
        (this as Record<string, unknown>)[k] = typeof v === 'function' ? v.bind(config) : v;
      }
    }
  }
  return Slice as unknown as ConfigSliceClass<K>;
}

export function provideConfigSlice<K extends Knob>(slice: ConfigSliceClass<K>): Provider {
  return { provide: slice, useFactory: (config: AppConfig) => new slice(config), inject: [AppConfig] };
}

/** Platform slices (provided and exported by the global PlatformModule). */
export class MessagingConfig extends configSlice('NAMESPACE', 'KAFKA_PARTITIONS') {}
export class HttpGuardConfig extends configSlice('apiKeys', 'RATE_LIMIT_PER_SECOND') {}
