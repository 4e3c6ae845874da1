import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../src/platform/errors/app-error';
import { RateLimiter } from '../../src/platform/rate-limit/rate-limiter';

const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
afterAll(() => redis.quit());

describe.each([
  ['memory', () => undefined],
  ['redis', () => redis],
])('RateLimiter (%s)', (_name, client) => {
  const prefix = `rl-${randomBytes(4).toString('hex')}`;
  let sut: RateLimiter;
  beforeAll(async () => {
    if (client() && redis.status === 'wait') await redis.connect();
    sut = new RateLimiter(client(), prefix);
  });
  afterAll(async () => {
    if (client()) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
  });

  it('allows `points` per window, then refuses with a retry-after', async () => {
    for (let i = 0; i < 3; i++) await sut.consume('b', 'user-1', 3, 10);
    const refused = await sut.consume('b', 'user-1', 3, 10).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).kind).toBe('rate_limited');
    expect((refused as AppError).extra.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('counts keys and buckets separately', async () => {
    for (let i = 0; i < 3; i++) await sut.consume('b2', 'user-2', 3, 10);
    await expect(sut.consume('b2', 'user-3', 3, 10)).resolves.toBeUndefined();
    await expect(sut.consume('b3', 'user-2', 3, 10)).resolves.toBeUndefined();
  });

  it('holds the limit under concurrent consumers', async () => {
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => sut.consume('c', 'hot', 20, 10)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
  });

});

describe('RateLimiter on Redis across instances', () => {
  it('shares one count between two limiters (two app instances)', async () => {
    if (redis.status === 'wait') await redis.connect();
    const prefix = `rl-${randomBytes(4).toString('hex')}`;
    const a = new RateLimiter(redis, prefix);
    const b = new RateLimiter(redis, prefix);
    for (let i = 0; i < 2; i++) await a.consume('shared', 'k', 3, 10);
    await b.consume('shared', 'k', 3, 10);
    await expect(b.consume('shared', 'k', 3, 10)).rejects.toBeInstanceOf(AppError);
    await expect(a.consume('shared', 'k', 3, 10)).rejects.toBeInstanceOf(AppError);
  });
});
