/**
 * An event log between modules with Kafka's semantics: topics split into partitions, messages
 * routed by key (murmur2, as Kafka's default partitioner), consumer groups sharing partitions,
 * per-partition order, committed offsets, and transactions that write output and consumed offsets
 * together. Full profile: Kafka via kafkajs. Embedded profile: an in-process log.
 * One contract suite (test/contract/event-bus.test.ts).
 */
export interface OutgoingMessage {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are int64; kept as decimal strings. */
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  /** Append time in epoch ms. */
  timestamp: number;
}

export interface TopicSpec {
  name: string;
  /** Defaults to KAFKA_PARTITIONS. */
  partitions?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** `topic/partition`, as the buses key their per-partition state. */
export const keyOf = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

export function parseKey(k: string): TopicPartition {
  const i = k.lastIndexOf('/');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
}

export interface ConsumerBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /** The partition's end (offset of the next message to be written) when fetched, if the log reports it. */
  highWatermark?: string;
}

export interface BatchContext {
  /**
   * Only for transactional subscriptions: messages sent through here are committed atomically with
   * this batch's offsets (Kafka transaction with sendOffsets), or not at all.
   */
  produce(topic: string, messages: OutgoingMessage[]): void;
  /** True while this member still owns the partition; long handlers check it between steps. */
  isOwned(): boolean;
}

export interface SubscribeOptions {
  /** A group with no committed offset starts at the earliest one. */
  groupId: string;
  topics: string[];
  /**
   * At-least-once by default: offsets up to the batch's last message are committed after the
   * handler resolves; a throw redelivers the batch. With `transactional`, output produced through
   * the context and the offsets commit in one transaction (exactly once inside the log).
   */
  transactional?: boolean;
  /**
   * When a partition is assigned, the offset to resume from (the next offset to read), if the
   * consumer keeps its own offsets next to its state (e.g. in PostgreSQL). Overrides the group's.
   */
  resumeFrom?(tp: TopicPartition): Promise<string | undefined>;
  /**
   * How many assigned partitions may have a batch in the handler at once (order within a
   * partition is kept). Default 1. A handler bound by round trips (e.g. to Redis) gains from more;
   * the in-process log ignores it.
   */
  partitionsConcurrently?: number;
  /**
   * Fetch sizing for high-volume consumers (Kafka: bytes per partition and per fetch response; kafkajs
   * defaults 1 MiB / 10 MiB). Bigger batches spread the per-batch costs (offset commit, heartbeat, the
   * handler's bookkeeping) over more messages. The in-process log ignores it.
   */
  fetch?: { maxBytesPerPartition?: number; maxBytes?: number };
  onAssigned?(partitions: TopicPartition[]): Promise<void> | void;
  onRevoked?(partitions: TopicPartition[]): Promise<void> | void;
  handleBatch(batch: ConsumerBatch, ctx: BatchContext): Promise<void>;
}

export interface Subscription {
  /** Finishes the batch in hand, commits what was processed, leaves the group. */
  close(): Promise<void>;
}

export abstract class EventBus {
  /**
   * Names the log's offset space. The same across restarts where offsets persist (Kafka: ''; the
   * durable in-process log keeps its own), a new one for a log whose offsets restart at 0 (the
   * in-memory log), so whatever stores offsets beside its own data can tell (the raw-event archive).
   */
  readonly logId: string = '';
  abstract ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves only once the log has the messages durably (acks=all, idempotent producer). */
  abstract publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  abstract subscribe(opts: SubscribeOptions): Promise<Subscription>;
  abstract ping(): Promise<void>;
}
