import { createHash } from 'node:crypto';
import Redis, { Cluster } from 'ioredis';
import {
  KeyValueStore,
  LuaScript,
  SetOptions,
  SortOrder,
} from './key-value-store.port';
import { pairs } from './score-bound';
import { assertOneSlot, hashSlot } from './hash-slot';
import { withTimeout } from '../with-timeout';

/** Redis glob metacharacters in a prefix must match literally in SCAN MATCH. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/** One Redis or a Redis Cluster (ioredis Cluster routes each command by its key's slot). */
export type RedisClient = Redis | Cluster;

/** How long a durability barrier waits for a replica's acknowledgement before giving up. */
const WAIT_REPLICA_MS = 2000;

export class RedisKeyValueStore extends KeyValueStore {
  /** Script name -> sha1, and sha1 -> lua: two different scripts may not share a name. */
  private readonly shas = new Map<string, string>();
  private readonly luaBySha = new Map<string, string>();
  private readonly cluster: boolean;
  private replicaView?: RedisKeyValueStore;

  /**
   * `replicaClient`: a second cluster client with scaleReads 'slave' for `forReads()`; `readsOnly`
   * marks that view, which runs scripts with EVALSHA_RO (routable to replicas) and refuses others.
   */
  constructor(
    private readonly client: RedisClient,
    private readonly replicaClient?: RedisClient,
    private readonly readsOnly = false,
  ) {
    super();
    this.cluster = client instanceof Cluster;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  override forReads(): KeyValueStore {
    if (!this.replicaClient) return this;
    return (this.replicaView ??= new RedisKeyValueStore(this.replicaClient, undefined, true));
  }

  /**
   * WAIT 1 on every primary this client talks to. A primary whose replica is gone (it died, or was
   * promoted and the old primary is not back) has nothing to wait for: writes there are as durable
   * as one node makes them, and the consumer must not stall on it. A primary that has a replica
   * but did not get its acknowledgement in time throws, so the caller does not commit its offset.
   */
  override async waitForReplicas(): Promise<void> {
    if (!(this.client instanceof Cluster)) return;
    await Promise.all(
      this.client.nodes('master').map(async (node) => {
        // ROLE first: a primary left without a replica must not cost every batch the WAIT timeout.
        const role = (await node.role()) as [string, number, [string, string, string][]];
        if ((role[2] ?? []).length === 0) return;
        const acked = Number(await node.wait(1, WAIT_REPLICA_MS));
        if (acked < 1) throw new Error(`Redis ${node.options.host}:${node.options.port}: no replica acknowledged the writes within ${WAIT_REPLICA_MS} ms`);
      }),
    );
  }

  /** Multi-key commands on a cluster: one command per slot, results in the callers' order. */
  private bySlot(keys: string[]): string[][] {
    if (keys.length === 0) return [];
    if (!this.cluster) return [keys];
    const groups = new Map<number, string[]>();
    for (const k of keys) {
      const slot = hashSlot(k);
      const g = groups.get(slot);
      if (g) g.push(k);
      else groups.set(slot, [k]);
    }
    return [...groups.values()];
  }

  get(key: string) { return this.client.get(key); }
  async mGet(keys: string[]) {
    if (!keys.length) return [];
    if (!this.cluster) return this.client.mget(keys);
    return Promise.all(keys.map((k) => this.client.get(k)));
  }
  async set(key: string, value: string, opts: SetOptions = {}) {
    const args: (string | number)[] = [];
    if (opts.ttlMs !== undefined) args.push('PX', opts.ttlMs);
    if (opts.onlyIfAbsent) args.push('NX');
    const reply = await (this.client.set as (...a: unknown[]) => Promise<string | null>)(key, value, ...args);
    return reply === 'OK';
  }
  async del(keys: string[]) {
    if (!keys.length) return 0;
    const counts = await Promise.all(this.bySlot(keys).map((g) => this.client.del(g)));
    return counts.reduce((a, b) => a + b, 0);
  }
  async pExpire(key: string, ttlMs: number) { return (await this.client.pexpire(key, ttlMs)) === 1; }
  pTtl(key: string) { return this.client.pttl(key); }

  async hSet(key: string, fields: Record<string, string | number>) {
    if (Object.keys(fields).length) await this.client.hset(key, fields);
  }
  hGet(key: string, field: string) { return this.client.hget(key, field); }
  hGetAll(key: string) { return this.client.hgetall(key); }
  async hDel(key: string, fields: string[]) { return fields.length ? this.client.hdel(key, ...fields) : 0; }

  sMembers(key: string) { return this.client.smembers(key); }

  zCard(key: string) { return this.client.zcard(key); }
  async zRange(key: string, start: number, stop: number, order: SortOrder) {
    const flat =
      order === 'asc'
        ? await this.client.zrange(key, start, stop, 'WITHSCORES')
        : await this.client.zrevrange(key, start, stop, 'WITHSCORES');
    return pairs(flat);
  }

  /**
   * EVALSHA with a fallback to EVAL on NOSCRIPT (first use, or after a Redis restart), so each
   * script travels in full once per server. Not ioredis defineCommand: a command defined while an
   * auto-pipeline is already filling is missing from that pipeline, and ioredis then hangs the
   * whole batch ("results[i] is not iterable"); EVALSHA is a builtin, so it batches safely.
   */
  async runScript<T>(script: LuaScript<T>, keys: string[], args: (string | number)[]): Promise<T> {
    let sha = this.shas.get(script.name);
    if (sha === undefined) {
      sha = createHash('sha1').update(script.lua).digest('hex');
      this.shas.set(script.name, sha);
      this.luaBySha.set(sha, script.lua);
    } else if (this.luaBySha.get(sha) !== script.lua) {
      throw new Error(`Two different scripts are named "${script.name}"`);
    }
    assertOneSlot(script.name, keys);
    const argv = [...keys, ...args.map(String)];
    if (this.readsOnly && !script.readOnly) throw new Error(`script ${script.name} writes; it cannot run on the read store`);
    // EVALSHA_RO is flagged read-only, so a cluster client with scaleReads sends it to a replica.
    const [bySha, byLua] = script.readOnly && this.readsOnly ? (['evalsha_ro', 'eval_ro'] as const) : (['evalsha', 'eval'] as const);
    const reply = await this.client[bySha](sha, keys.length, ...argv).catch((err: Error) => {
      if (!String(err.message).includes('NOSCRIPT')) throw err;
      return this.client[byLua](script.lua, keys.length, ...argv);
    });
    return script.fromRedis(reply);
  }

  /** SCAN + UNLINK on the one Redis, or on every primary of a cluster (each holds its own slots). */
  async deleteByPrefix(prefix: string) {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const counts = await Promise.all(nodes.map((node) => this.deleteOnNode(node, prefix)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async deleteOnNode(node: Redis, prefix: string): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 500);
      cursor = next;
      // Keys on one node may still span slots: UNLINK them per slot.
      for (const g of this.bySlot(keys)) n += await node.unlink(g);
    } while (cursor !== '0');
    return n;
  }

  /** Races a timer: with Redis down ioredis may queue the command offline and never settle. */
  async ping() {
    await withTimeout(this.client.ping(), 1000, 'Redis did not answer PING within 1s');
  }
}
