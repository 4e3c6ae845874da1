/**
 * Key/value, hashes, sets and sorted sets with Redis semantics, the operations modules use. Full profile: Redis through
 * ioredis (auto-pipelined). Embedded profile: in-process strings and hashes that behave the same,
 * checked by one contract suite (test/contract/key-value-store.test.ts). Sets and sorted sets are
 * written only by Lua scripts, so only Redis holds them: their reads are for Redis adapters, and
 * the in-process store refuses them as it refuses Lua-only scripts.
 */
export interface ZMember {
  member: string;
  score: number;
}

export type SortOrder = 'asc' | 'desc';

export interface SetOptions {
  ttlMs?: number;
  /** SET NX: only when the key does not exist. */
  onlyIfAbsent?: boolean;
}

/**
 * A multi-key operation that must be atomic, in Lua only: the in-process store refuses it, so a
 * module that needs one gives the embedded profile an in-process adapter of its own port (the
 * leaderboard's RankStore). `fromRedis` turns Redis's reply into the result.
 */
export interface LuaScript<T> {
  name: string;
  lua: string;
  /** Reads only: may run on a replica (EVALSHA_RO) through `forReads()`. */
  readOnly?: boolean;
  fromRedis(reply: unknown): T;
}

/**
 * A LuaScript with `local`, the same logic over the in-process store, run synchronously so
 * nothing interleaves. Both receive the same KEYS and ARGV (strings) and must return the same value.
 */
export interface AtomicScript<T> extends LuaScript<T> {
  local(ops: SyncKeyValueOps, keys: string[], args: string[]): T;
}

/** The synchronous operations an AtomicScript's local body may use (memory adapter only). */
export interface SyncKeyValueOps {
  get(key: string): string | null;
  set(key: string, value: string, opts?: SetOptions): boolean;
  del(key: string): number;
  pExpire(key: string, ttlMs: number): boolean;
  hGet(key: string, field: string): string | null;
  hSet(key: string, fields: Record<string, string | number>): void;
}

export abstract class KeyValueStore {
  abstract get(key: string): Promise<string | null>;
  abstract mGet(keys: string[]): Promise<(string | null)[]>;
  /** Returns false only when onlyIfAbsent was set and the key existed. */
  abstract set(key: string, value: string, opts?: SetOptions): Promise<boolean>;
  abstract del(keys: string[]): Promise<number>;
  abstract pExpire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining time to live in ms; -1 without expiry, -2 when the key does not exist. */
  abstract pTtl(key: string): Promise<number>;

  abstract hSet(key: string, fields: Record<string, string | number>): Promise<void>;
  abstract hGet(key: string, field: string): Promise<string | null>;
  abstract hGetAll(key: string): Promise<Record<string, string>>;
  abstract hDel(key: string, fields: string[]): Promise<number>;

  abstract sMembers(key: string): Promise<string[]>;

  abstract zCard(key: string): Promise<number>;
  /** By 0-based rank, inclusive stop, negative indexes count from the end (ZRANGE / ZREVRANGE). */
  abstract zRange(key: string, start: number, stop: number, order: SortOrder): Promise<ZMember[]>;

  /** Every key must hash to one Redis Cluster slot (see hash-slot.ts); both adapters check it. */
  abstract runScript<T>(script: LuaScript<T>, keys: string[], args: (string | number)[]): Promise<T>;

  /**
   * The store to send reads to that may lag the primary a little (Redis replicas when
   * REDIS_READ_FROM=replica); only reads and readOnly scripts may go through it. Itself by default.
   */
  forReads(): KeyValueStore {
    return this;
  }

  /**
   * Durability barrier: resolves once the writes this process made so far reached a replica (Redis
   * WAIT on each primary that has one), so an offset committed afterwards cannot outlive its data
   * in a failover. Nothing to wait for without replicas (memory store, one Redis).
   */
  async waitForReplicas(): Promise<void> {}

  /** Deletes every key that starts with prefix (SCAN + UNLINK); for resets and tests. */
  abstract deleteByPrefix(prefix: string): Promise<number>;

  /** Resolves when the store answers; rejects otherwise (health checks). */
  abstract ping(): Promise<void>;
}
