import type { Redis, Cluster } from 'ioredis';
import type { RedisClient } from '../kv/redis-key-value-store';
import { Gauge } from 'prom-client';
import type { TopicPartition } from '../messaging/event-bus.port';
import { withTimeout } from '../with-timeout';
import { MetricsRegistry } from './metrics';

const INFO_TIMEOUT_MS = 1000;

/** One replica line of `INFO replication` on a primary. */
export interface ReplicaLag {
  replica: string;
  lagBytes: number;
}

/** Parses a primary's `INFO replication` into how far each replica is behind it. */
export function parseReplication(info: string): ReplicaLag[] {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  if (fields.get('role') !== 'master') return [];
  const head = Number(fields.get('master_repl_offset') ?? 0);
  const out: ReplicaLag[] = [];
  for (const [k, v] of fields) {
    if (!/^slave\d+$/.test(k)) continue;
    const kv = new Map(v.split(',').map((p) => p.split('=') as [string, string]));
    out.push({
      replica: `${kv.get('ip')}:${kv.get('port')}`,
      lagBytes: Math.max(0, head - Number(kv.get('offset') ?? 0)),
    });
  }
  return out;
}

/**
 * What operators of a scaled-out deployment watch besides the modules' own metrics: how far each
 * consumer group is behind its log, and how far each Redis replica is behind its primary (what a
 * failover would lose from Redis, and how stale replica reads are). Replication is read on scrape,
 * so an idle process costs nothing.
 */
export class InfrastructureMetrics {
  private readonly consumerLag: Gauge<'group' | 'topic' | 'partition'>;

  constructor(metrics: MetricsRegistry, redis: () => RedisClient | undefined) {
    const registers = [metrics.registry];
    this.consumerLag = new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Messages of the partition not yet handled by this consumer group, as of its last batch',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    });
    const primaries = () => {
      const r = redis();
      if (!r) return [];
      return r.isCluster ? (r as Cluster).nodes('master') : [r as Redis];
    };
    const readAll = async () => {
      const rows: { primary: string; lag: ReplicaLag }[] = [];
      // A primary that does not answer right now is left out; the others are still reported.
      await Promise.allSettled(
        primaries().map(async (node) => {
          const info = await withTimeout(node.info('replication'), INFO_TIMEOUT_MS, 'INFO replication timed out');
          const primary = `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
          for (const lag of parseReplication(info)) rows.push({ primary, lag });
        }),
      );
      return rows;
    };
    new Gauge({
      name: 'redis_replication_lag_bytes',
      help: "Bytes of a primary's replication stream its replica has not acknowledged",
      labelNames: ['primary', 'replica'],
      registers,
      async collect() {
        this.reset();
        for (const { primary, lag } of await readAll()) this.set({ primary, replica: lag.replica }, lag.lagBytes);
      },
    });
  }

  readonly onConsumerLag = (groupId: string, tp: TopicPartition, lag: number): void => {
    this.consumerLag.set({ group: groupId, topic: tp.topic, partition: String(tp.partition) }, lag);
  };
}
