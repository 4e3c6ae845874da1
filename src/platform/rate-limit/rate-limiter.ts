import type { RedisClient } from '../kv/redis-key-value-store';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors/app-error';

/**
 * Fixed-window counters from rate-limiter-flexible: one library with a Redis backend (atomic Lua,
 * shared by every instance) and an in-process backend with the same behaviour.
 *
 * While Redis is down (a restart, a cluster failover) the Redis limiter hands over to an in-process
 * one with the same limits (the library's insuranceLimiter) at once, without waiting for Redis:
 * limits then hold per instance instead of across instances. Neither failing closed (every request
 * a 503, even those that need no Redis) nor failing open (no limit at all) is better: routes that
 * need Redis answer 503 dependency_unavailable by themselves, and the others keep serving, limited.
 */
export class RateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis: RedisClient | undefined,
    private readonly keyPrefix: string,
  ) {}

  /** Throws AppError rate_limited with retryAfterSeconds when `key` exceeded `points` per `durationSec`. */
  async consume(bucket: string, key: string, points: number, durationSec: number, cost = 1): Promise<void> {
    const limiter = this.limiter(bucket, points, durationSec);
    try {
      await limiter.consume(key, cost);
    } catch (e) {
      if (e instanceof RateLimiterRes) {
        throw new AppError('rate_limited', 'rate_limited', `rate limit of ${points} per ${durationSec}s exceeded`, {
          retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)),
        });
      }
      throw new AppError('unavailable', 'rate_limiter_unavailable', 'rate limiter backend is unavailable');
    }
  }

  private limiter(bucket: string, points: number, duration: number): RateLimiterAbstract {
    const id = `${bucket}:${points}:${duration}`;
    let l = this.limiters.get(id);
    if (!l) {
      const opts = { points, duration, keyPrefix: `${this.keyPrefix}:rl:${bucket}` };
      l = this.redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: this.redis,
            useRedisPackage: false,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(opts),
          })
        : new RateLimiterMemory(opts);
      this.limiters.set(id, l);
    }
    return l;
  }
}
