import Redis, { Cluster } from 'ioredis';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/app-config';
import { SqlDatabase } from './database/sql-database';
import { PgliteSqlDatabase } from './database/pglite-sql-database';
import { PostgresSqlDatabase } from './database/postgres-sql-database';
import { KeyValueStore } from './kv/key-value-store.port';
import { DurableKeyValueStore } from './kv/durable-key-value-store';
import { MemoryKeyValueStore } from './kv/memory-key-value-store';
import { RedisClient, RedisKeyValueStore } from './kv/redis-key-value-store';
import { EventBus } from './messaging/event-bus.port';
import { KafkaEventBus } from './messaging/kafka-event-bus';
import { MemoryEventBus } from './messaging/memory-event-bus';
import { BullMqJobQueue, clusterSeeds } from './queue/bullmq-job-queue';
import { JobQueue } from './queue/job-queue.port';
import { MemoryJobQueue } from './queue/memory-job-queue';
import { TopicPartition } from './messaging/event-bus.port';

export interface Adapters {
  sql: SqlDatabase;
  kv: KeyValueStore;
  queue: JobQueue;
  bus: EventBus;
  redis: RedisClient | undefined;
  closers: (() => Promise<void>)[];
}

export interface AdapterHooks {
  onConsumerLag?(groupId: string, tp: TopicPartition, lag: number): void;
}

/** The only place that knows which adapter serves which port in each profile. */
export async function createAdapters(config: AppConfig, hooks: AdapterHooks = {}): Promise<Adapters> {
  const closers: (() => Promise<void>)[] = [];
  try {
    if (!config.isFull) {
      const sql = new PgliteSqlDatabase(config.DATA_DIR);
      await sql.open();
      closers.push(() => sql.close());
      // DATA_DIR=memory keeps nothing; a folder keeps every in-process store beside PGlite's files,
      // journaled with fdatasync before an answer (see AppendLog), so a restart loses nothing acknowledged.
      const dir = config.DATA_DIR === 'memory' ? null : join(resolve(config.DATA_DIR), 'inproc');
      const kv = dir ? await DurableKeyValueStore.open(join(dir, 'kv.log')) : new MemoryKeyValueStore();
      closers.push(() => kv.close());
      const queue = dir ? await MemoryJobQueue.open(join(dir, 'queue.log')) : new MemoryJobQueue();
      closers.push(() => queue.close());
      const bus = dir ? await MemoryEventBus.open(join(dir, 'bus.log'), config.KAFKA_PARTITIONS) : new MemoryEventBus(config.KAFKA_PARTITIONS);
      closers.push(() => bus.close());
      return { sql, kv, queue, bus, redis: undefined, closers };
    }
    const sql = new PostgresSqlDatabase({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE });
    await sql.open();
    closers.push(() => sql.close());
    const redis = await openRedis(config, 'master');
    // QUIT lets replies in flight arrive; a dead server is cut off instead.
    closers.push(() => redis.quit().then(() => undefined, () => redis.disconnect()));
    let replicaReads: RedisClient | undefined;
    if (config.REDIS_CLUSTER_NODES && config.REDIS_READ_FROM === 'replica') {
      const r = (replicaReads = await openRedis(config, 'slave'));
      closers.push(() => r.quit().then(() => undefined, () => r.disconnect()));
    }
    const kv = new RedisKeyValueStore(redis, replicaReads);
    const queue = new BullMqJobQueue({ url: config.REDIS_URL, prefix: config.NAMESPACE, clusterNodes: config.REDIS_CLUSTER_NODES });
    closers.push(() => queue.close());
    const bus = new KafkaEventBus({
      brokers: config.KAFKA_BROKERS,
      clientId: config.NAMESPACE,
      defaultPartitions: config.KAFKA_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      onConsumerLag: hooks.onConsumerLag,
    });
    closers.push(() => bus.close());
    await bus.ping();
    return { sql, kv, queue, bus, redis, closers };
  } catch (e) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw e;
  }
}

/**
 * One Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). Fail fast on boot, then reconnect
 * forever: a Redis restart or a cluster failover must not need an app restart. `reads` 'slave'
 * sends read-only commands to replicas (the leaderboard's read path with REDIS_READ_FROM=replica).
 */
async function openRedis(config: AppConfig, reads: 'master' | 'slave'): Promise<RedisClient> {
  if (!config.REDIS_CLUSTER_NODES) {
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableAutoPipelining: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    return redis;
  }
  const cluster = new Cluster(clusterSeeds(config.REDIS_CLUSTER_NODES), {
    lazyConnect: true,
    enableAutoPipelining: true,
    scaleReads: reads,
    // A failover moves slots: re-read the slot map soon and retry the command on the new primary
    // (CLUSTERDOWN / connection closed / MOVED) instead of failing the request at once.
    slotsRefreshInterval: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    redisOptions: { maxRetriesPerRequest: 2 },
  });
  await cluster.connect();
  return cluster;
}
