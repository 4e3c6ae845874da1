import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { AppendLog } from '../durable/append-log';
import { BatchContext, EventBus, IncomingMessage, keyOf, OutgoingMessage, parseKey, SubscribeOptions, Subscription, TopicPartition, TopicSpec } from './event-bus.port';

/**
 * The embedded profile's event log: Kafka's semantics in one process so modules behave the same
 * without a broker. Output of a transactional batch is appended together with the group's offsets
 * in one synchronous step, so "read_committed" is simply what is in the log.
 *
 * `MemoryEventBus.open(path)` makes it durable (DATA_DIR): topics, messages and group offsets go to a
 * journal (AppendLog) as they change; a transactional batch's output and offsets are one record. A
 * publish resolves, and a consumer is handed a message, only once it is on disk (fdatasync), so a
 * crash loses nothing acknowledged and nothing any consumer acted on. Offsets and the log's id carry
 * over a restart, so consumers that keep their own offsets (the ad stream worker) resume consistently.
 */
const MAX_BATCH = 500;
const RETRY_MS = 100;
/** Kafka's default message.max.bytes: what the broker would refuse, the embedded log refuses too. */
const MAX_MESSAGE_BYTES = 1048588;

type Key = string; // `${topic}/${partition}`

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
      this.owned.set(k, resume !== undefined ? Number(resume) : committed ?? 0);
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
      // Never hand out what a crash could still take back (the publisher is not answered yet either).
      await this.bus.durable();
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
        const appended = output.flatMap((o) => this.bus.append(o.topic, o.messages));
        this.bus.commit(this.opts.groupId, k, pos + messages.length, appended);
        if (this.opts.transactional) await this.bus.durable();
      } catch {
        // At-least-once: the batch comes again, after a pause so a poison batch does not spin.
        this.retryAt.set(k, Date.now() + RETRY_MS);
        return true;
      }
      this.retryAt.delete(k);
      if (this.owned.has(k)) this.owned.set(k, pos + messages.length);
      return true;
    }
    return false;
  }
}

/** One journal record: any of a new topic, appended messages, a group's offset commit (together: atomic). */
interface BusRecord {
  id?: string;
  t?: [name: string, partitions: number];
  m?: [topic: string, partition: number, key: string, value: string, headers: Record<string, string>, timestamp: number][];
  c?: [group: string, tp: Key, next: number];
}

export class MemoryEventBus extends EventBus {
  private readonly topics = new Map<string, IncomingMessage[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private signal!: Promise<void>;
  private fire!: () => void;
  private journal: AppendLog | null = null;
  /** Offsets restart at 0 with every in-memory log: a fresh id per instance (durable: kept in the journal). */
  override logId = `e${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

  constructor(private readonly defaultPartitions = 6) {
    super();
    this.wake();
  }

  /** The durable log in the file at `path` (created if missing), with everything it held. */
  static async open(path: string, defaultPartitions = 6): Promise<MemoryEventBus> {
    const bus = new MemoryEventBus(defaultPartitions);
    const { log, records } = await AppendLog.open(path, { snapshot: () => bus.snapshot() });
    for (const r of records as BusRecord[]) bus.replay(r);
    bus.journal = log;
    if (records.length === 0) log.append({ id: bus.logId } satisfies BusRecord);
    await log.durable();
    return bus;
  }

  private replay(r: BusRecord): void {
    if (r.id) this.logId = r.id;
    if (r.t) this.topics.set(r.t[0], Array.from({ length: r.t[1] }, () => []));
    for (const [topic, partition, key, value, headers, timestamp] of r.m ?? []) {
      const log = this.log({ topic, partition });
      log.push({ topic, partition, offset: String(log.length), key, value, headers, timestamp });
    }
    if (r.c) this.group(r.c[0]).committed.set(r.c[1], r.c[2]);
  }

  /** Everything as records that rebuild it: the journal's compaction. */
  private snapshot(): BusRecord[] {
    const out: BusRecord[] = [{ id: this.logId }];
    for (const [name, parts] of this.topics) {
      out.push({ t: [name, parts.length] });
      for (const log of parts) {
        for (let i = 0; i < log.length; i += 1000) out.push({ m: log.slice(i, i + 1000).map(row) });
      }
    }
    for (const [id, g] of this.groups) for (const [k, next] of g.committed) out.push({ c: [id, k, next] });
    return out;
  }

  /** Resolves once everything in the log so far is on disk (at once for an in-memory log). */
  durable(): Promise<void> {
    return this.journal?.durable() ?? Promise.resolve();
  }

  /** A group's offset, with the transactional output appended for it: one journal record. */
  commit(groupId: string, k: Key, next: number, appended: IncomingMessage[]): void {
    this.group(groupId).committed.set(k, next);
    this.journal?.append({ m: appended.map(row), c: [groupId, k, next] } satisfies BusRecord);
  }

  private group(id: string): Group {
    let group = this.groups.get(id);
    if (!group) this.groups.set(id, (group = { members: [], committed: new Map(), owner: new Map() }));
    return group;
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
      this.journal?.append({ t: [t.name, n] } satisfies BusRecord);
    }
    await this.durable();
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const appended = this.append(topic, messages); // all checks run before the first message is appended
    this.journal?.append({ m: appended.map(row) } satisfies BusRecord);
    await this.durable();
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

  append(topic: string, messages: OutgoingMessage[]): IncomingMessage[] {
    const parts = this.check(topic, messages);
    const appended: IncomingMessage[] = [];
    const partitionMetadata = parts.map((_, i) => ({ partitionId: i, leader: 0 }));
    for (const m of messages) {
      const partition = this.partitioner({
        topic,
        partitionMetadata: partitionMetadata as never,
        message: { key: m.key, value: m.value },
      });
      const log = parts[partition];
      const msg: IncomingMessage = {
        topic,
        partition,
        offset: String(log.length),
        key: m.key,
        value: m.value,
        headers: { ...(m.headers ?? {}) },
        timestamp: Date.now(),
      };
      log.push(msg);
      appended.push(msg);
    }
    this.wake();
    return appended;
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    for (const t of opts.topics) if (!this.topics.has(t)) throw new Error(`topic ${t} does not exist`);
    const group = this.group(opts.groupId);
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
    await this.journal?.close();
  }
}

const row = (m: IncomingMessage): NonNullable<BusRecord['m']>[number] => [m.topic, m.partition, m.key, m.value, m.headers, m.timestamp];
