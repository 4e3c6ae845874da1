import {
  AtomicScript,
  LuaScript,
  KeyValueStore,
  SetOptions,
  ZMember,
  SyncKeyValueOps,
} from './key-value-store.port';
import { assertOneSlot } from './hash-slot';

type Entry = { type: 'string'; value: string } | { type: 'hash'; map: Map<string, string> };

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
/**
 * A change as an absolute effect (the value after it, never "add one"), so replaying a journal of
 * them onto a snapshot that already holds some is harmless. Expiry times are epoch ms. Set and
 * sorted-set effects are only in journals of earlier versions; nothing reads those keys, so replay
 * skips them.
 */
export type KvEffect =
  | ['s', string, string, number | null] // SET: value and its expiry (null: none)
  | ['v', string, string] // string value, expiry kept (INCRBY; only in journals of earlier versions)
  | ['d', string]
  | ['x', string, number]
  | ['h', string, Record<string, string>]
  | ['hd', string, string]
  | ['sa' | 'sr' | 'za' | 'zr', string, unknown];

/**
 * The synchronous core. Kept apart from the async facade because the port's async del/hDel take
 * arrays while AtomicScript bodies get the single-key forms, as in Lua.
 */
export class MemoryKeyValueOps implements SyncKeyValueOps {
  readonly data = new Map<string, Entry>();
  readonly expiries = new Map<string, number>();
  /** While set, every change is also written here as an absolute effect (the durable store's journal). */
  recorder: KvEffect[] | null = null;

  /** The live entry, expiring it lazily. */
  entry(key: string): Entry | undefined {
    const at = this.expiries.get(key);
    if (at !== undefined && at <= Date.now()) {
      this.data.delete(key);
      this.expiries.delete(key);
    }
    return this.data.get(key);
  }

  private typed<K extends Entry['type']>(key: string, type: K): Extract<Entry, { type: K }> | undefined {
    const e = this.entry(key);
    if (e && e.type !== type) throw new Error(WRONGTYPE);
    return e as Extract<Entry, { type: K }> | undefined;
  }

  sweep(): void {
    const now = Date.now();
    for (const [key, at] of this.expiries) if (at <= now) this.entry(key);
  }

  get(key: string): string | null {
    const e = this.typed(key, 'string');
    return e ? e.value : null;
  }
  set(key: string, value: string, opts: SetOptions = {}): boolean {
    if (opts.onlyIfAbsent && this.entry(key)) return false;
    this.data.set(key, { type: 'string', value });
    // Plain SET discards a previous TTL.
    if (opts.ttlMs !== undefined) this.expiries.set(key, Date.now() + opts.ttlMs);
    else this.expiries.delete(key);
    this.recorder?.push(['s', key, value, this.expiries.get(key) ?? null]);
    return true;
  }
  del(key: string): number {
    const had = this.entry(key) !== undefined;
    this.data.delete(key);
    this.expiries.delete(key);
    if (had) this.recorder?.push(['d', key]);
    return had ? 1 : 0;
  }

  pExpire(key: string, ttlMs: number): boolean {
    if (!this.entry(key)) return false;
    if (ttlMs <= 0) this.del(key);
    else {
      this.expiries.set(key, Date.now() + ttlMs);
      this.recorder?.push(['x', key, Date.now() + ttlMs]);
    }
    return true;
  }
  pTtl(key: string): number {
    if (!this.entry(key)) return -2;
    const at = this.expiries.get(key);
    return at === undefined ? -1 : Math.max(0, at - Date.now());
  }

  hGet(key: string, field: string): string | null {
    return this.typed(key, 'hash')?.map.get(field) ?? null;
  }
  hSet(key: string, fields: Record<string, string | number>): void {
    const names = Object.keys(fields);
    if (names.length === 0) return;
    let e = this.typed(key, 'hash');
    if (!e) this.data.set(key, (e = { type: 'hash', map: new Map() }));
    for (const f of names) e.map.set(f, String(fields[f]));
    this.recorder?.push(['h', key, Object.fromEntries(names.map((f) => [f, String(fields[f])]))]);
  }

  hDel(key: string, field: string): number {
    const e = this.typed(key, 'hash');
    if (!e || !e.map.delete(field)) return 0;
    this.recorder?.push(['hd', key, field]);
    if (e.map.size === 0) this.del(key); // Redis drops an emptied hash; pTtl then says -2 too
    return 1;
  }
  hGetAll(key: string): Record<string, string> {
    return Object.fromEntries(this.typed(key, 'hash')?.map ?? []);
  }

  /** Replays one journal effect (not recorded again). An expiry already past drops the key lazily. */
  apply(e: KvEffect): void {
    switch (e[0]) {
      case 's':
        this.data.set(e[1], { type: 'string', value: e[2] });
        if (e[3] === null) this.expiries.delete(e[1]);
        else this.expiries.set(e[1], e[3]);
        return;
      case 'v': {
        const at = this.expiries.get(e[1]);
        this.data.set(e[1], { type: 'string', value: e[2] });
        if (at !== undefined) this.expiries.set(e[1], at);
        return;
      }
      case 'd': this.del(e[1]); return;
      case 'x': if (this.data.has(e[1])) this.expiries.set(e[1], e[2]); return;
      case 'h': this.hSet(e[1], e[2]); return;
      case 'hd': this.hDel(e[1], e[2]); return;
    }
  }

  /** The whole live state as effects that rebuild it on an empty store (the journal's compaction). */
  dump(): KvEffect[] {
    const out: KvEffect[] = [];
    const now = Date.now();
    for (const [key, e] of this.data) {
      const at = this.expiries.get(key);
      if (at !== undefined && at <= now) continue;
      if (e.type === 'string') out.push(['s', key, e.value, at ?? null]);
      else {
        out.push(['h', key, Object.fromEntries(e.map)]);
        if (at !== undefined) out.push(['x', key, at]);
      }
    }
    return out;
  }
}

/** Embedded-profile KeyValueStore. Methods are async so errors surface as rejections, as with Redis. */
export class MemoryKeyValueStore extends KeyValueStore {
  protected readonly ops = new MemoryKeyValueOps();
  private sweeper: NodeJS.Timeout | null;

  constructor(sweepIntervalMs = 1000) {
    super();
    // Lazy expiry alone would keep never-read keys forever; the sweep bounds memory. unref: it
    // must not keep the process (or a test run) alive.
    this.sweeper = setInterval(() => this.ops.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Every operation runs through here, synchronously: the durable store journals what it changed. */
  protected async exec<T>(op: (ops: MemoryKeyValueOps) => T): Promise<T> {
    return op(this.ops);
  }

  get(key: string) { return this.exec((o) => o.get(key)); }
  mGet(keys: string[]) { return this.exec((o) => keys.map((k) => o.get(k))); }
  set(key: string, value: string, opts?: SetOptions) { return this.exec((o) => o.set(key, value, opts)); }
  del(keys: string[]) { return this.exec((o) => keys.reduce((n, k) => n + o.del(k), 0)); }
  pExpire(key: string, ttlMs: number) { return this.exec((o) => o.pExpire(key, ttlMs)); }
  pTtl(key: string) { return this.exec((o) => o.pTtl(key)); }

  hSet(key: string, fields: Record<string, string | number>) { return this.exec((o) => o.hSet(key, fields)); }
  hGet(key: string, field: string) { return this.exec((o) => o.hGet(key, field)); }
  hGetAll(key: string) { return this.exec((o) => o.hGetAll(key)); }
  hDel(key: string, fields: string[]) { return this.exec((o) => fields.reduce((n, f) => n + o.hDel(key, f), 0)); }

  sMembers(): Promise<string[]> { return redisOnly('SMEMBERS'); }
  zCard(): Promise<number> { return redisOnly('ZCARD'); }
  zRange(): Promise<ZMember[]> { return redisOnly('ZRANGE'); }

  /** Synchronous, so no other operation interleaves: the same atomicity a Lua script has. */
  async runScript<T>(script: LuaScript<T> | AtomicScript<T>, keys: string[], args: (string | number)[]): Promise<T> {
    assertOneSlot(script.name, keys);
    if (!('local' in script)) throw new Error(`script ${script.name} is Lua only: the embedded profile runs an in-process adapter`);
    return this.exec((o) => script.local(o, keys, args.map(String)));
  }

  deleteByPrefix(prefix: string) {
    return this.exec((o) => {
      let n = 0;
      for (const key of [...o.data.keys()]) if (key.startsWith(prefix)) n += o.del(key);
      return n;
    });
  }

  async ping() {}
}

/** Sets and sorted sets exist only in Redis (see the port); the embedded profile runs in-process adapters. */
const redisOnly = (op: string): Promise<never> => Promise.reject(new Error(`${op}: sets and sorted sets are Redis only`));
