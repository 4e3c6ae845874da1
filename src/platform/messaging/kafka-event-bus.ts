import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Admin, ConsumerRunConfig, IHeaders, Kafka, KafkaJSError, KafkaMessage, logCreator, logLevel, PartitionMetadata, Partitioners, Producer, RecordMetadata } from 'kafkajs';
import { EventBus, IncomingMessage, keyOf, OutgoingMessage, parseKey, SubscribeOptions, Subscription, TopicPartition, TopicSpec } from './event-bus.port';
import { withTimeout } from '../with-timeout';

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId: string;
  defaultPartitions: number;
  replicationFactor: number;
  /** Consumer group session timeout (kafkajs default 30 s): how soon a killed member's partitions move. */
  sessionTimeoutMs?: number;
  /** kafkajs log level; WARN by default (its INFO logs every join and connect). */
  logLevel?: logLevel;
  /** Told, after each handled batch, how many messages of the partition are still unread. */
  onConsumerLag?(groupId: string, tp: TopicPartition, lag: number): void;
}

/**
 * kafkajs logs through the application's logger (JSON lines with the rest, at LOG_LEVEL), not
 * straight to the console, less two kinds of line that do not apply here: the idempotent
 * producer's retries are bounded on purpose, so that a caller gets an error (the tracking gateway
 * answers 503) instead of waiting forever while the brokers are gone — idempotence still drops a
 * retried duplicate within the producer's session, and one request in flight keeps the order; and
 * every error response a broker sends is logged by the connection before kafkajs retries it ("the
 * coordinator is loading" while a broker starts, a leader moving): the request's caller gets the
 * error if the retries run out, and handles or reports it there.
 */
const kafkaLogger = new Logger('kafkajs');
const appLogCreator: logCreator = () => ({ namespace, level, log }) => {
  if (log.message === 'Limiting retries for the idempotent producer may invalidate EoS guarantees') return;
  if (namespace === 'Connection' && log.message.startsWith('Response ')) return;
  const { message, timestamp: _timestamp, logger: _logger, ...fields } = log as { message: string; [k: string]: unknown };
  const line = `${namespace ? `[${namespace}] ` : ''}${message}${Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`;
  if (level === logLevel.ERROR) kafkaLogger.error(line);
  else if (level === logLevel.WARN) kafkaLogger.warn(line);
  else if (level === logLevel.INFO) kafkaLogger.log(line);
  else kafkaLogger.debug(line);
};

/** 2 of 3 (a majority, leaving one broker to lose); 1 when there is no third copy. */
export const minInsyncReplicas = (replicationFactor: number) => (replicationFactor >= 3 ? 2 : 1);

/** Idempotent with one request in flight: retries can neither duplicate nor reorder. */
const PRODUCER = { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner };
const toKafka = (m: OutgoingMessage) => ({ key: m.key, value: m.value, headers: m.headers });

/** The full profile's event log: Kafka 3.9 through kafkajs 2.2.4. */
export class KafkaEventBus extends EventBus {
  private readonly kafka: Kafka;
  private admin?: Admin;
  private producer?: Producer;
  private readonly connecting = new Map<Admin | Producer, Promise<Admin | Producer>>();
  private readonly subs = new Set<Subscription>();

  constructor(private readonly opts: KafkaEventBusOptions) {
    super();
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: opts.logLevel ?? logLevel.WARN,
      logCreator: appLogCreator,
      retry: { retries: 8, initialRetryTime: 100 },
      // kafkajs gives a connection 1 s by default; a broker JVM on a busy host (the cluster suite
      // starts three beside four app processes on two cores) took longer and failed a boot.
      connectionTimeout: 5000,
    });
  }

  /** Connects once, lazily, so constructing the bus never needs a broker; retried after a failure. */
  private connected<T extends Admin | Producer>(client: T): Promise<T> {
    let p = this.connecting.get(client) as Promise<T> | undefined;
    if (!p) {
      p = client.connect().then(() => client);
      p.catch(() => this.connecting.delete(client));
      this.connecting.set(client, p);
    }
    return p;
  }

  private getAdmin(): Promise<Admin> {
    return this.connected((this.admin ??= this.kafka.admin()));
  }

  private getProducer(): Promise<Producer> {
    return this.connected((this.producer ??= this.kafka.producer(PRODUCER)));
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          // kafkajs's own wait asks one broker once and fails with UNKNOWN_TOPIC_OR_PARTITION when
          // that broker has not heard of the topic yet (multi-broker KRaft); polled below instead.
          waitForLeaders: false,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions ?? this.opts.defaultPartitions,
            replicationFactor: this.opts.replicationFactor,
            // With acks=all, an acknowledged message is on at least two brokers when replicated 3
            // ways, and one broker may be lost without stopping writes.
            configEntries: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas(this.opts.replicationFactor)) }],
          })),
        });
      } catch (e) {
        // Another process may create the same topics at the same time.
        if (!/already exists/i.test(String((e as Error).message))) throw e;
      }
    }
    await this.awaitTopicMetadata(topics.map((t) => t.name));
  }

  /**
   * Returns once every broker knows the topics with a leader for every partition (20 s at most).
   * The controller answers CreateTopics before the brokers have replayed the new metadata, and a
   * topic another process just created is listed before every broker knows it: a consumer whose
   * subscribe then asks a broker that has not caught up fails with UNKNOWN_TOPIC_OR_PARTITION
   * (kafkajs gives up on that error at once). Seen on the 3-broker cluster: right after
   * one broker showed a new topic's leaders, 9 of 90 asks of single brokers still did not know it
   * (bench/platform/topic-metadata-gap.ts). Each broker is asked on its own connection.
   */
  private async awaitTopicMetadata(names: string[]): Promise<void> {
    const admin = await this.getAdmin();
    const deadline = Date.now() + 20_000;
    const { brokers } = await admin.describeCluster();
    const known = (m: Awaited<ReturnType<Admin['fetchTopicMetadata']>>) =>
      names.every((n) => m.topics.some((t) => t.name === n && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)));
    const askers = brokers.length <= 1 ? [admin] : brokers.map((b) => new Kafka({ clientId: this.opts.clientId, brokers: [`${b.host}:${b.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin());
    try {
      await Promise.all(
        askers.map(async (a) => {
          for (;;) {
            const meta = await (a === admin ? Promise.resolve() : a.connect()).then(() => a.fetchTopicMetadata({ topics: names })).catch((e: Error) => e);
            if (!(meta instanceof Error) && known(meta)) return;
            if (Date.now() > deadline) throw meta instanceof Error ? meta : new Error(`kafka: topics ${names.join(', ')} have no leaders after 20 s`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }),
      );
    } finally {
      await Promise.all(askers.filter((a) => a !== admin).map((a) => a.disconnect().catch(() => undefined)));
    }
  }

  /**
   * acks=all, and every partition the messages go to must have acknowledged them. kafkajs 2.2.4
   * drops messages without an error when a partition's leader moves during a send to a broker that
   * already answered for another partition of the same send (sendMessages keeps its retry state per
   * broker, and that broker counts as done): a Kafka broker SIGKILLed in the cluster suite lost 82 of
   * 7,632 acknowledged ad events that way. So the partitions are chosen here, with kafkajs's own
   * default partitioner (same murmur2 of the key, so the same partition as before), and the
   * messages of any partition missing from the acknowledgements are sent again (idempotent producer:
   * a copy that did reach the log is dropped by the broker).
   */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const p = await this.getProducer();
    await this.sendAcknowledged(topic, messages, (batch) => p.send({ topic, acks: -1, messages: batch }));
  }

  /**
   * Sends until every partition has acknowledged its messages (5 resends at most, then an error).
   * Transactional output goes through here too: the same drop inside a transaction raises no error,
   * so the transaction would commit the consumed offsets without the dropped output - lost for good.
   * A transaction aborts as a whole only when something throws; this makes the drop throw or heal.
   */
  private async sendAcknowledged(topic: string, messages: OutgoingMessage[], send: (batch: PartitionedMessage[]) => Promise<RecordMetadata[]>): Promise<void> {
    if (messages.length === 0) return;
    const partitionMetadata = await this.partitionsOf(topic);
    const batch = messages.map((m) => {
      const k = toKafka(m);
      return { ...k, partition: this.partitioner({ topic, partitionMetadata, message: k }) };
    });
    await sendUntilAcknowledged(topic, batch, send);
  }

  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly partitionCache = new Map<string, { at: number; partitions: PartitionMetadata[] }>();

  /** A topic's partitions, re-read once a minute (a failed re-read keeps the last known ones). */
  private async partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    const hit = this.partitionCache.get(topic);
    if (hit && Date.now() - hit.at < 60_000) return hit.partitions;
    try {
      const admin = await this.getAdmin();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`kafka: topic ${topic} has no partitions`);
      this.partitionCache.set(topic, { at: Date.now(), partitions });
      return partitions;
    } catch (e) {
      if (hit) return hit.partitions;
      throw e;
    }
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      allowAutoTopicCreation: false,
      readUncommitted: false, // never see aborted transactional output
      // An idle fetch parks this long on the broker; close() waits for it, so keep it short.
      maxWaitTimeInMs: 1000,
      ...(opts.fetch?.maxBytesPerPartition ? { maxBytesPerPartition: opts.fetch.maxBytesPerPartition } : {}),
      ...(opts.fetch?.maxBytes ? { maxBytes: opts.fetch.maxBytes } : {}),
      sessionTimeout: this.opts.sessionTimeoutMs ?? 30000,
      heartbeatInterval: Math.min(3000, Math.floor((this.opts.sessionTimeoutMs ?? 30000) / 3)),
      // A bounded budget (~5 s a step), on purpose: kafkajs's way out of a stale state is a step that
      // runs out of retries. An offset commit goes to the coordinator found at the last join and is
      // retried against that same node, dead or no longer the coordinator; with an endless budget the
      // batch never ended, heartbeats stopped, and the group stayed Empty for good after a broker
      // SIGKILL (test/cluster/event-bus-failover.test.ts). A commit that fails now re-joins the group
      // (below), which finds the coordinator again; other steps that run out crash the consumer, and
      // kafkajs restarts it (a retriable cause) or the CRASH listener below does.
      retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    let txProducer: Producer | undefined;
    if (opts.transactional) {
      // One transactional id per subscription. kafkajs sends TxnOffsetCommit without the group
      // generation (no KIP-447), so a member that lost a partition mid-batch is not fenced by the
      // broker; the ownership check before commit below narrows that window to the commit itself.
      txProducer = this.kafka.producer({ ...PRODUCER, transactionalId: `${opts.groupId}-${randomUUID()}` });
      await txProducer.connect();
    }

    let assigned = new Set<string>();
    // Partition -> the offset the consumer's own state resumes from, until a batch starts there.
    const resumeAt = new Map<string, string>();
    let ready: Promise<void> = Promise.resolve();
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const now = new Set<string>();
      for (const [topic, parts] of Object.entries(payload.memberAssignment))
        for (const partition of parts) now.add(keyOf({ topic, partition }));
      const revoked = [...assigned].filter((k) => !now.has(k)).map(parseKey);
      const added = [...now].filter((k) => !assigned.has(k)).map(parseKey);
      assigned = now;
      resumeAt.clear(); // kafkajs re-reads committed offsets on every join
      // Listeners are not awaited by kafkajs, so batches wait on `ready` instead.
      const prev = ready;
      ready = prev.then(async () => {
        if (revoked.length > 0) await opts.onRevoked?.(revoked);
        if (added.length > 0) await opts.onAssigned?.(added);
        if (!opts.resumeFrom) return;
        // Seek at assignment, not at the first batch: when the group offset is ahead of the
        // consumer's checkpoint (killed between the two) and no new message arrives, no batch
        // would ever come to trigger the replay.
        for (const k of now) {
          const tp = parseKey(k);
          const resume = await opts.resumeFrom(tp);
          if (resume === undefined || !assigned.has(k)) continue;
          resumeAt.set(k, resume);
          consumer.seek({ ...tp, offset: resume });
        }
      });
    });

    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
    const runConfig: ConsumerRunConfig = {
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConcurrently ?? 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        await ready;
        const tp = { topic: batch.topic, partition: batch.partition };
        const k = keyOf(tp);
        const resume = resumeAt.get(k);
        if (resume !== undefined) {
          if (resume !== batch.firstOffset()) {
            // Fetched before the seek took effect: skip it; the next fetch starts at `resume`.
            consumer.seek({ ...tp, offset: resume });
            return;
          }
          resumeAt.delete(k);
        }
        if (batch.isEmpty() || !isRunning() || isStale()) return;
        const messages: IncomingMessage[] = new Array(batch.messages.length);
        for (let i = 0; i < messages.length; i++) messages[i] = new KafkaIncoming(tp.topic, tp.partition, batch.messages[i]);
        const last = batch.lastOffset();
        const next = (BigInt(last) + 1n).toString();
        const output: { topic: string; messages: OutgoingMessage[] }[] = [];
        await opts.handleBatch(
          { ...tp, messages, highWatermark: batch.highWatermark },
          {
            produce: (topic, msgs) => {
              if (!txProducer) throw new Error('produce() needs a transactional subscription');
              output.push({ topic, messages: msgs });
            },
            isOwned: () => isRunning() && !isStale() && assigned.has(k),
          },
        );
        if (txProducer) {
          const tx = await txProducer.transaction();
          try {
            for (const o of output) await this.sendAcknowledged(o.topic, o.messages, (batch) => tx.send({ topic: o.topic, acks: -1, messages: batch }));
            if (!isRunning() || isStale() || !assigned.has(k)) throw new Error(`lost ${k} during the batch`);
            await tx.sendOffsets({
              consumerGroupId: opts.groupId,
              topics: [{ topic: tp.topic, partitions: [{ partition: tp.partition, offset: next }] }],
            });
            await tx.commit();
          } catch (e) {
            await tx.abort().catch(() => undefined);
            throw e; // not resolved: kafkajs fetches the batch again
          }
        } else {
          try {
            await consumer.commitOffsets([{ ...tp, offset: next }]);
          } catch (e) {
            throw rejoinAfter(e as Error, opts.groupId); // not resolved: fetched again after the join
          }
        }
        resolveOffset(last);
        this.opts.onConsumerLag?.(opts.groupId, tp, Number(BigInt(batch.highWatermark) - BigInt(next)));
        await heartbeat();
      },
    };
    // kafkajs restarts a crashed consumer only when the cause is retriable; otherwise (a TypeError
    // from a handler, an error it counts as fatal) the consumer stops without a word, for good. A
    // subscription must outlive any one failure: it starts again here, and the batch is redelivered.
    let closing = false;
    let restartTimer: NodeJS.Timeout | undefined;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || closing) return;
      kafkaLogger.error(`${opts.groupId}: the consumer stopped on ${payload.error.name}: ${payload.error.message}; starting it again in 1 s`);
      clearTimeout(restartTimer);
      restartTimer = setTimeout(() => {
        if (!closing) consumer.run(runConfig).catch((e: Error) => kafkaLogger.error(`${opts.groupId}: restarting the consumer failed: ${e.message}`));
      }, 1000);
    });
    await consumer.run(runConfig);

    let closed: Promise<void> | undefined;
    const sub: Subscription = {
      close: () =>
        (closed ??= (async () => {
          this.subs.delete(sub);
          closing = true;
          clearTimeout(restartTimer);
          await consumer.disconnect(); // waits for the batch in hand, then leaves the group
          await ready.catch(() => undefined);
          if (assigned.size > 0) await opts.onRevoked?.([...assigned].map(parseKey));
          assigned = new Set();
          await txProducer?.disconnect();
        })()),
    };
    this.subs.add(sub);
    return sub;
  }

  async ping(): Promise<void> {
    const admin = await withTimeout(this.getAdmin(), 3000, 'kafka: no answer in 3000ms');
    await withTimeout(admin.describeCluster(), 3000, 'kafka: no answer in 3000ms');
  }

  async close(): Promise<void> {
    await Promise.all([...this.subs].map((s) => s.close()));
    // Disconnect without waiting for a connect still retrying against a dead broker.
    await Promise.all([this.producer?.disconnect(), this.admin?.disconnect()]);
    this.producer = this.admin = undefined;
    this.connecting.clear();
  }
}

/**
 * A fetched message as the port's IncomingMessage. The value is decoded eagerly (every handler reads
 * it); the key and the headers only when read, then cached: building a headers object and a key string
 * for every message cost ~3 µs a message and most of the garbage in the stream worker's CPU profile.
 * key/headers are prototype getters, so `{ ...msg }` does not copy them; read them by name.
 */
class KafkaIncoming implements IncomingMessage {
  readonly offset: string;
  readonly value: string;
  readonly timestamp: number;
  private k?: string;
  private h?: Record<string, string>;

  constructor(readonly topic: string, readonly partition: number, private readonly raw: KafkaMessage) {
    this.offset = raw.offset;
    this.value = raw.value?.toString() ?? '';
    this.timestamp = Number(raw.timestamp);
  }

  get key(): string {
    return (this.k ??= this.raw.key?.toString() ?? '');
  }

  get headers(): Record<string, string> {
    return (this.h ??= decodeHeaders(this.raw.headers));
  }

  toJSON(): Omit<IncomingMessage, never> {
    const { topic, partition, offset, key, value, headers, timestamp } = this;
    return { topic, partition, offset, key, value, headers, timestamp };
  }
}

function decodeHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const name of Object.keys(h)) {
    const v = h[name];
    out[name] = Array.isArray(v) ? String(v[0]) : String(v ?? '');
  }
  return out;
}

export interface PartitionedMessage { key: string; value: string; headers?: Record<string, string>; partition: number }

/**
 * Sends `batch` (each message with its partition) and sends again the messages of every partition
 * missing from the acknowledgements, 5 times at most; then throws. See KafkaEventBus.publish.
 */
export async function sendUntilAcknowledged(topic: string, batch: PartitionedMessage[], send: (batch: PartitionedMessage[]) => Promise<RecordMetadata[]>): Promise<void> {
  for (let round = 0; ; round++) {
    const acked = new Set((await send(batch)).map((r) => r.partition));
    const missing = batch.filter((m) => !acked.has(m.partition));
    if (missing.length === 0) return;
    if (round >= 5) throw new Error(`kafka: ${missing.length} messages to ${topic} were never acknowledged`);
    kafkaLogger.warn(`${missing.length} messages to ${topic} (partitions ${[...new Set(missing.map((m) => m.partition))].join(',')}) were not acknowledged: sending them again`);
    batch = missing;
  }
}

/**
 * The error a batch throws when its offset commit failed: typed as NOT_COORDINATOR_FOR_GROUP, the
 * one kind of error on which kafkajs's runner re-joins the group (asking the cluster for the group's
 * coordinator again) instead of fetching again with the coordinator it had. The batch was not
 * resolved, so it is delivered again after the join (at least once; handlers are idempotent).
 */
function rejoinAfter(cause: Error, groupId: string): Error {
  const e = new KafkaJSError(`${groupId}: committing offsets failed (${cause.message}); re-joining the group at its current coordinator`, { retriable: true });
  return Object.assign(e, { type: 'NOT_COORDINATOR_FOR_GROUP' });
}
