import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock, SystemClock } from './clock/clock';
import { IdGenerator, UuidV7IdGenerator } from './ids/id-generator';
import { KeyValueStore } from './kv/key-value-store.port';
import type { RedisClient } from './kv/redis-key-value-store';
import { EventBus } from './messaging/event-bus.port';
import { JobQueue } from './queue/job-queue.port';
import { SqlDatabase } from './database/sql-database';
import { RateLimiter } from './rate-limit/rate-limiter';
import { MetricsRegistry } from './metrics/metrics';
import { InfrastructureMetrics } from './metrics/infrastructure-metrics';
import { createAdapters } from './adapters';
import { withTimeout } from './with-timeout';

const CLOSE_TIMEOUT_MS = 2000;

export type Dependency = [name: string, ping: () => Promise<void>];

/**
 * Everything the modules stand on, built once per process from the profile: the full profile
 * talks to PostgreSQL, Redis and Kafka; the embedded profile runs the same ports in-process
 * (PGlite for SQL). Modules receive the ports; only adapters know which is which.
 */
export class Infrastructure {
  private readonly log = new Logger('infrastructure');
  readonly clock: Clock = new SystemClock();
  readonly ids: IdGenerator = new UuidV7IdGenerator();
  readonly rateLimiter: RateLimiter;

  private constructor(
    readonly config: AppConfig,
    readonly metrics: MetricsRegistry,
    readonly sql: SqlDatabase,
    readonly kv: KeyValueStore,
    readonly queue: JobQueue,
    readonly bus: EventBus,
    /** Full profile only: the shared ioredis connection, for adapters that need Redis itself. */
    readonly redis: RedisClient | undefined,
    private closers: (() => Promise<void>)[],
  ) {
    this.rateLimiter = new RateLimiter(redis, config.NAMESPACE);
  }

  static async open(config: AppConfig): Promise<Infrastructure> {
    const metrics = new MetricsRegistry();
    let redis: RedisClient | undefined;
    const ops = new InfrastructureMetrics(metrics, () => redis);
    const a = await createAdapters(config, { onConsumerLag: ops.onConsumerLag });
    redis = a.redis;
    const infra = new Infrastructure(config, metrics, a.sql, a.kv, a.queue, a.bus, a.redis, a.closers);
    infra.log.log(`profile ${config.APP_PROFILE}: sql=${a.sql.name}, kv/queue/bus ${config.isFull ? 'redis/bullmq/kafka' : 'in-process'}`);
    return infra;
  }

  dependencies(): Dependency[] {
    const deps: Dependency[] = [[this.config.isFull ? 'postgres' : 'database', () => this.sql.ping()]];
    if (this.config.isFull) {
      deps.push(['redis', () => this.kv.ping()], ['kafka', () => this.bus.ping()]);
    }
    return deps;
  }

  /** Closes in reverse order of opening; each failure is logged, none stops the rest. */
  async close(): Promise<void> {
    // Bounded: a dependency that is down must not hold a terminating process past its grace period.
    for (const close of this.closers.reverse()) {
      await withTimeout(close(), CLOSE_TIMEOUT_MS, `no answer within ${CLOSE_TIMEOUT_MS} ms`).catch((e: unknown) =>
        this.log.warn(`close failed: ${(e as Error).message}`),
      );
    }
    this.closers = [];
  }
}
