import { Partitioners } from 'kafkajs';
import {
  BatchContext,
  EventBus,
  IncomingMessage,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicPartition,
  TopicSpec,
} from './event-bus.port';

/**
 * The embedded profile's event log: Kafka's semantics in one process so modules behave the same
 * without a broker. Output of a transactional batch is appended together with the group's offsets
 * in one synchronous step, so "read_committed" is simply what is in the log.
 */
const MAX_BATCH = 500;
const RETRY_MS = 100;
/** Kafka's default message.max.bytes: what the broker would refuse, the embedded log refuses too. */
const MAX_MESSAGE_BYTES = 1048588;

type Key = string; // `${topic}/${partition}`
const keyOf = (tp: TopicPartition): Key => `${tp.topic}/${tp.partition}`;

interface Group {
  members: Member[];
  committed: Map<Key, number>;
  owner: Map<Key, Member>;
}

class Member implements Subscription {
  desired = new Set<Key>();
  owned = new Map<Key, number>(); // partition -> next offset to read
  closing = false;
  done!: Promise<void>;
  private retryAt = new Map<Key, number>();

  constructor(
    private readonly bus: MemoryEventBus,
    readonly group: Group,
    readonly opts: SubscribeOptions,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async close(): Promise<void> {
    if (this.closing) return this.done;
    this.closing = true;
    this.bus.wake();
    await this.done;
  }

  private async loop(): Promise<void> {
    while (!this.closing) {
      const signal = this.bus.nextSignal();
      await this.reconcile();
      const worked = await this.processOne();
      if (!worked && !this.closing) await this.waitFor(signal);
    }
    // Leave the group: hand partitions back, then let the others take them.
    await this.release([...this.owned.keys()]);
    this.group.members = this.group.members.filter((m) => m !== this);
    this.bus.rebalance(this.group);
  }

  /** Waits for a new append/rebalance/close, or for the earliest retry after a failed batch. */
  private async waitFor(signal: Promise<void>): Promise<void> {
    const retries = [...this.retryAt.values()];
    if (retries.length === 0) return signal;
    const ms = Math.max(0, Math.min(...retries) - Date.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([signal, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Releases revoked partitions, then takes newly desired ones once their old owner let go. */
  private async reconcile(): Promise<void> {
    await this.release([...this.owned.keys()].filter((k) => !this.desired.has(k)));
    const taken: TopicPartition[] = [];
    for (const k of this.desired) {
      if (this.owned.has(k) || this.group.owner.has(k)) continue;
      this.group.owner.set(k, this);
      const tp = parseKey(k);
      const resume = await this.opts.resumeFrom?.(tp);
      const committed = this.group.committed.get(k);
      const start =
        resume !== undefined
          ? Number(resume)
          : committed ?? (this.opts.fromBeginning === false ? this.bus.log(tp).length : 0);
      this.owned.set(k, start);
      taken.push(tp);
    }
    if (taken.length > 0) await this.opts.onAssigned?.(taken);
  }

  private async release(keys: Key[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.opts.onRevoked?.(keys.map(parseKey));
    } finally {
      for (const k of keys) {
        this.owned.delete(k);
        this.retryAt.delete(k);
        if (this.group.owner.get(k) === this) this.group.owner.delete(k);
      }
      this.bus.wake(); // another member may be waiting for these partitions
    }
  }

  /** Handles one batch from the first partition with unread messages; false if there is none. */
  private async processOne(): Promise<boolean> {
    const now = Date.now();
    for (const [k, pos] of this.owned) {
      if ((this.retryAt.get(k) ?? 0) > now) continue;
      const tp = parseKey(k);
      const log = this.bus.log(tp);
      if (pos >= log.length) continue;
      const messages = log.slice(pos, pos + MAX_BATCH).map((m) => ({ ...m, headers: { ...m.headers } }));
      const output: { topic: string; messages: OutgoingMessage[] }[] = [];
      const ctx: BatchContext = {
        produce: (topic, msgs) => {
          if (!this.opts.transactional) throw new Error('produce() needs a transactional subscription');
          output.push({ topic, messages: msgs });
        },
        isOwned: () => !this.closing && this.desired.has(k) && this.group.owner.get(k) === this,
      };
      try {
        await this.opts.handleBatch({ ...tp, messages }, ctx);
        // Output and offsets together, synchronously, after checking every message: all or nothing.
        for (const o of output) this.bus.check(o.topic, o.messages);
        for (const o of output) this.bus.append(o.topic, o.messages);
      } catch {
        // At-least-once: the batch comes again, after a pause so a poison batch does not spin.
        this.retryAt.set(k, Date.now() + RETRY_MS);
        return true;
      }
      this.retryAt.delete(k);
      const next = pos + messages.length;
      this.group.committed.set(k, next);
      if (this.owned.has(k)) this.owned.set(k, next);
      return true;
    }
    return false;
  }
}

function parseKey(k: Key): TopicPartition {
  const i = k.lastIndexOf('/');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
}

export class MemoryEventBus extends EventBus {
  private readonly topics = new Map<string, IncomingMessage[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private signal!: Promise<void>;
  private fire!: () => void;

  constructor(private readonly defaultPartitions = 6) {
    super();
    this.wake();
  }

  /** Resolves the current signal and arms a new one: every waiter re-checks its work. */
  wake(): void {
    this.fire?.();
    this.signal = new Promise((r) => (this.fire = r));
  }

  nextSignal(): Promise<void> {
    return this.signal;
  }

  log(tp: TopicPartition): IncomingMessage[] {
    const parts = this.topics.get(tp.topic);
    if (!parts?.[tp.partition]) throw new Error(`unknown topic-partition ${keyOf(tp)}`);
    return parts[tp.partition];
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    for (const t of topics) {
      if (this.topics.has(t.name)) continue;
      const n = t.partitions ?? this.defaultPartitions;
      this.topics.set(t.name, Array.from({ length: n }, () => []));
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.append(topic, messages); // all checks run before the first message is appended
  }

  /** Throws what Kafka would refuse: a missing topic (no auto-creation) or an oversized message. */
  check(topic: string, messages: OutgoingMessage[]): IncomingMessage[][] {
    const parts = this.topics.get(topic);
    if (!parts) throw new Error(`topic ${topic} does not exist`);
    for (const m of messages) {
      const size = Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
      if (size > MAX_MESSAGE_BYTES) throw new Error(`message of ${size} bytes is larger than the log accepts`);
    }
    return parts;
  }

  append(topic: string, messages: OutgoingMessage[]): void {
    const parts = this.check(topic, messages);
    const partitionMetadata = parts.map((_, i) => ({ partitionId: i, leader: 0 }));
    for (const m of messages) {
      const partition = this.partitioner({
        topic,
        partitionMetadata: partitionMetadata as never,
        message: { key: m.key, value: m.value },
      });
      const log = parts[partition];
      log.push({
        topic,
        partition,
        offset: String(log.length),
        key: m.key,
        value: m.value,
        headers: { ...(m.headers ?? {}) },
        timestamp: Date.now(),
      });
    }
    this.wake();
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    for (const t of opts.topics) if (!this.topics.has(t)) throw new Error(`topic ${t} does not exist`);
    let group = this.groups.get(opts.groupId);
    if (!group) this.groups.set(opts.groupId, (group = { members: [], committed: new Map(), owner: new Map() }));
    const member = new Member(this, group, opts);
    group.members.push(member);
    this.rebalance(group);
    member.start();
    return member;
  }

  /** Range-free round robin over each topic's partitions among the members subscribed to it. */
  rebalance(group: Group): void {
    const live = group.members.filter((m) => !m.closing);
    for (const m of group.members) m.desired = new Set();
    const topics = [...new Set(live.flatMap((m) => m.opts.topics))].sort();
    for (const topic of topics) {
      const members = live.filter((m) => m.opts.topics.includes(topic));
      const n = this.topics.get(topic)?.length ?? 0;
      for (let p = 0; p < n; p++) members[p % members.length].desired.add(keyOf({ topic, partition: p }));
    }
    this.wake();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    for (const g of this.groups.values()) await Promise.all(g.members.map((m) => m.close()));
  }
}
