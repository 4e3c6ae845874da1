import {
  AtomicScript,
  KeyValueStore,
  RangeByScoreOptions,
  ScoreBound,
  SetOptions,
  SortOrder,
  SyncKeyValueOps,
  ZMember,
} from './key-value-store.port';
import { OrderStatisticSet } from './order-statistic-set';
import { parseBound } from './score-bound';
import { assertOneSlot } from './hash-slot';

type Entry =
  | { type: 'string'; value: string }
  | { type: 'hash'; map: Map<string, string> }
  | { type: 'set'; set: Set<string> }
  | { type: 'zset'; scores: Map<string, number>; tree: OrderStatisticSet };

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_INT = 'ERR value is not an integer or out of range';

function toInt(text: string | undefined, err = NOT_INT): number {
  const n = text === undefined ? 0 : Number(text);
  if (!Number.isSafeInteger(n) || (text !== undefined && !/^-?\d+$/.test(text))) throw new Error(err);
  return n;
}

/**
 * The synchronous core. Kept apart from the async facade because the port's async del/hDel take
 * arrays while AtomicScript bodies get the single-key forms, as in Lua.
 */
export class MemoryKeyValueOps implements SyncKeyValueOps {
  readonly data = new Map<string, Entry>();
  readonly expiries = new Map<string, number>();

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

  private create<K extends Entry['type']>(key: string, type: K, make: () => Extract<Entry, { type: K }>) {
    let e = this.typed(key, type);
    if (!e) this.data.set(key, (e = make()));
    return e;
  }

  /** Redis removes a collection when it becomes empty; so do we, so exists/pTtl agree. */
  private dropIfEmpty(key: string, n: number): void {
    if (n === 0) this.del(key);
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
    return true;
  }
  del(key: string): number {
    const had = this.entry(key) !== undefined;
    this.data.delete(key);
    this.expiries.delete(key);
    return had ? 1 : 0;
  }
  exists(key: string): boolean {
    return this.entry(key) !== undefined;
  }
  incrBy(key: string, by: number): number {
    const e = this.typed(key, 'string');
    const next = toInt(e?.value) + by;
    if (e) e.value = String(next);
    else this.data.set(key, { type: 'string', value: String(next) });
    return next;
  }
  pExpire(key: string, ttlMs: number): boolean {
    if (!this.entry(key)) return false;
    if (ttlMs <= 0) this.del(key);
    else this.expiries.set(key, Date.now() + ttlMs);
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
    const e = this.create(key, 'hash', () => ({ type: 'hash', map: new Map() }));
    for (const f of names) e.map.set(f, String(fields[f]));
  }
  hIncrBy(key: string, field: string, by: number): number {
    const e = this.create(key, 'hash', () => ({ type: 'hash', map: new Map() }));
    const next = toInt(e.map.get(field), 'ERR hash value is not an integer') + by;
    e.map.set(field, String(next));
    return next;
  }
  hDel(key: string, field: string): number {
    const e = this.typed(key, 'hash');
    if (!e || !e.map.delete(field)) return 0;
    this.dropIfEmpty(key, e.map.size);
    return 1;
  }
  hGetAll(key: string): Record<string, string> {
    return Object.fromEntries(this.typed(key, 'hash')?.map ?? []);
  }

  sAdd(key: string, members: string[]): number {
    if (members.length === 0) return 0;
    const e = this.create(key, 'set', () => ({ type: 'set', set: new Set() }));
    const before = e.set.size;
    for (const m of members) e.set.add(m);
    return e.set.size - before;
  }
  sRem(key: string, members: string[]): number {
    const e = this.typed(key, 'set');
    if (!e) return 0;
    let n = 0;
    for (const m of members) if (e.set.delete(m)) n++;
    this.dropIfEmpty(key, e.set.size);
    return n;
  }
  sIsMember(key: string, member: string): boolean {
    return this.typed(key, 'set')?.set.has(member) ?? false;
  }
  sMembers(key: string): string[] {
    return [...(this.typed(key, 'set')?.set ?? [])];
  }
  sCard(key: string): number {
    return this.typed(key, 'set')?.set.size ?? 0;
  }

  zAdd(key: string, entries: ZMember[]): number {
    if (entries.length === 0) return 0;
    if (entries.some((e) => Number.isNaN(e.score))) throw new Error('ERR value is not a valid float');
    const z = this.create(key, 'zset', () => ({ type: 'zset', scores: new Map(), tree: new OrderStatisticSet() }));
    let added = 0;
    for (const { member, score } of entries) {
      const old = z.scores.get(member);
      if (old === score) continue;
      if (old === undefined) added++;
      else z.tree.remove(old, member);
      z.scores.set(member, score);
      z.tree.insert(score, member);
    }
    return added;
  }
  zScore(key: string, member: string): number | null {
    return this.typed(key, 'zset')?.scores.get(member) ?? null;
  }
  zRem(key: string, members: string[]): number {
    const z = this.typed(key, 'zset');
    if (!z) return 0;
    let n = 0;
    for (const m of members) {
      const s = z.scores.get(m);
      if (s === undefined) continue;
      z.scores.delete(m);
      z.tree.remove(s, m);
      n++;
    }
    this.dropIfEmpty(key, z.scores.size);
    return n;
  }
  zCard(key: string): number {
    return this.typed(key, 'zset')?.scores.size ?? 0;
  }
  zRank(key: string, member: string, order: SortOrder): number | null {
    const z = this.typed(key, 'zset');
    const s = z?.scores.get(member);
    if (!z || s === undefined) return null;
    const r = z.tree.rank(s, member)!;
    return order === 'asc' ? r : z.scores.size - 1 - r;
  }
  zRange(key: string, start: number, stop: number, order: SortOrder): ZMember[] {
    const z = this.typed(key, 'zset');
    if (!z) return [];
    const len = z.scores.size;
    if (start < 0) start = Math.max(0, len + start);
    if (stop < 0) stop = len + stop;
    stop = Math.min(stop, len - 1);
    const out: ZMember[] = [];
    // Descending rank i is ascending rank len-1-i, which reverses score and member order alike.
    for (let i = start; i <= stop; i++) out.push(z.tree.at(order === 'asc' ? i : len - 1 - i)!);
    return out;
  }
  /** [lo, hi) ascending ranks of the entries within the bounds. */
  private scoreWindow(z: { tree: OrderStatisticSet }, min: ScoreBound, max: ScoreBound): [number, number] {
    const lo = parseBound(min);
    const hi = parseBound(max);
    return [z.tree.countBelow(lo.value, lo.exclusive), z.tree.countBelow(hi.value, !hi.exclusive)];
  }
  zRangeByScore(key: string, min: ScoreBound, max: ScoreBound, opts: RangeByScoreOptions = {}): ZMember[] {
    const z = this.typed(key, 'zset');
    if (!z) return [];
    const [lo, hi] = this.scoreWindow(z, min, max);
    const total = Math.max(0, hi - lo);
    const offset = opts.offset ?? 0;
    const count = opts.count === undefined || opts.count < 0 ? total : opts.count;
    const out: ZMember[] = [];
    for (let k = offset; k < total && out.length < count; k++) {
      out.push(z.tree.at(opts.order === 'desc' ? hi - 1 - k : lo + k)!);
    }
    return out;
  }
  zCount(key: string, min: ScoreBound, max: ScoreBound): number {
    const z = this.typed(key, 'zset');
    if (!z) return 0;
    const [lo, hi] = this.scoreWindow(z, min, max);
    return Math.max(0, hi - lo);
  }
}

/** Embedded-profile KeyValueStore. Methods are async so errors surface as rejections, as with Redis. */
export class MemoryKeyValueStore extends KeyValueStore {
  private readonly ops = new MemoryKeyValueOps();
  private sweeper: NodeJS.Timeout | null;

  constructor(sweepIntervalMs = 1000) {
    super();
    // Lazy expiry alone would keep never-read keys forever; the sweep bounds memory. unref: it
    // must not keep the process (or a test run) alive.
    this.sweeper = setInterval(() => this.ops.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  async get(key: string) { return this.ops.get(key); }
  async mGet(keys: string[]) { return keys.map((k) => this.ops.get(k)); }
  async set(key: string, value: string, opts?: SetOptions) { return this.ops.set(key, value, opts); }
  async del(keys: string[]) { return keys.reduce((n, k) => n + this.ops.del(k), 0); }
  async incrBy(key: string, by: number) { return this.ops.incrBy(key, by); }
  async pExpire(key: string, ttlMs: number) { return this.ops.pExpire(key, ttlMs); }
  async pTtl(key: string) { return this.ops.pTtl(key); }

  async hSet(key: string, fields: Record<string, string | number>) { this.ops.hSet(key, fields); }
  async hGet(key: string, field: string) { return this.ops.hGet(key, field); }
  async hGetAll(key: string) { return this.ops.hGetAll(key); }
  async hIncrBy(key: string, field: string, by: number) { return this.ops.hIncrBy(key, field, by); }
  async hDel(key: string, fields: string[]) { return fields.reduce((n, f) => n + this.ops.hDel(key, f), 0); }

  async sAdd(key: string, members: string[]) { return this.ops.sAdd(key, members); }
  async sRem(key: string, members: string[]) { return this.ops.sRem(key, members); }
  async sMembers(key: string) { return this.ops.sMembers(key); }
  async sCard(key: string) { return this.ops.sCard(key); }

  async zAdd(key: string, entries: ZMember[]) { return this.ops.zAdd(key, entries); }
  async zRem(key: string, members: string[]) { return this.ops.zRem(key, members); }
  async zScore(key: string, member: string) { return this.ops.zScore(key, member); }
  async zCard(key: string) { return this.ops.zCard(key); }
  async zRank(key: string, member: string, order: SortOrder) { return this.ops.zRank(key, member, order); }
  async zRange(key: string, start: number, stop: number, order: SortOrder) {
    return this.ops.zRange(key, start, stop, order);
  }
  async zRangeByScore(key: string, min: ScoreBound, max: ScoreBound, opts?: RangeByScoreOptions) {
    return this.ops.zRangeByScore(key, min, max, opts);
  }
  async zCount(key: string, min: ScoreBound, max: ScoreBound) { return this.ops.zCount(key, min, max); }

  /** Synchronous, so no other operation interleaves: the same atomicity a Lua script has. */
  async runScript<T>(script: AtomicScript<T>, keys: string[], args: (string | number)[]): Promise<T> {
    assertOneSlot(script.name, keys);
    return script.local(this.ops, keys, args.map(String));
  }

  async deleteByPrefix(prefix: string) {
    let n = 0;
    for (const key of [...this.ops.data.keys()]) if (key.startsWith(prefix)) n += this.ops.del(key);
    return n;
  }

  async ping() {}
}
