import Redis from 'ioredis';

/** A client for RedisKeyValueStore, pipelining like the app's (src/platform/adapters.ts). */
export function createRedisClient(url: string): Redis {
  return new Redis(url, { enableAutoPipelining: true });
}
