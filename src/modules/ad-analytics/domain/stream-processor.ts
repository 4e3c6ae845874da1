// Plain-TypeScript stream-processing core for ad analytics (one instance per Kafka partition).
// No framework, I/O or clock imports: event time comes from the events, processing time is passed in.
// State is serialisable (snapshot/restore) so it can be checkpointed together with the partition's offsets;
// changes() gives only what changed since the last snapshot()/changes(), for incremental checkpoints.

export type AdEventType = 'impression' | 'click';

export interface AdEvent {
  type: AdEventType;
  impressionId: string;
  adId: string;
  campaignId: string;
  /** event time, epoch ms */
  ts: number;
}

export interface WindowAggregate {
  windowStart: number;
  windowEnd: number;
  adId: string;
  campaignId: string;
  impressions: number;
  clicks: number;
}

export interface ProcessResult {
  closedWindows: WindowAggregate[];
  /** unique events that fell into an already-closed window (or beyond the TTL) and changed nothing */
  late: number;
  /** unique clicks whose impression did not arrive within the TTL, reported when they are evicted */
  unmatched: number;
}

export interface StreamConfig {
  windowMs: number;
  /** bounded out-of-orderness: watermark = max event time seen - this */
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  /** how long impressions wait for clicks (and clicks for impressions); also bounds dedup state */
  ttlMs: number;
  /** processing time without events after which idleFlush advances the watermark */
  idleTimeoutMs: number;
}

export const DEFAULT_STREAM_CONFIG: StreamConfig = {
  windowMs: 60_000,
  outOfOrdernessMs: 5_000,
  allowedLatenessMs: 120_000,
  ttlMs: 3_600_000,
  idleTimeoutMs: 30_000,
};

interface StoredImpression { ts: number; adId: string; campaignId: string }
interface StoredClick { ts: number; adId: string; campaignId: string; matched: boolean }
interface Counts { adId: string; campaignId: string; impressions: number; clicks: number }

interface SnapshotV1 {
  v: 1;
  config: StreamConfig;
  maxTs: number | null;
  watermark: number | null;
  lastActivityMs: number | null;
  impressions: [string, StoredImpression][];
  clicks: [string, StoredClick][];
  windows: [number, Counts[]][];
  orphanUnmatched: [number, number][];
}

/** v2: `pairs` is [adId0, campaignId0, adId1, ...]; `ref` indexes pairs; `ts` is delta-coded in insertion order. */
interface SnapshotV2 {
  v: 2;
  config: StreamConfig;
  maxTs: number | null;
  watermark: number | null;
  lastActivityMs: number | null;
  pairs: string[];
  impressions: { ids: string[]; ts: number[]; ref: number[] };
  clicks: { ids: string[]; ts: number[]; ref: number[]; matched: number[] };
  windows: [number, Counts[]][];
  orphanUnmatched: [number, number][];
}

/**
 * v3, what changed since the previous snapshot or changes: the keyed entries set since then (current
 * values), the window cells touched (absolute counts), and the small scalars in full. Evictions are
 * not written: restore drops whatever the restored watermark has expired, as the live state did.
 */
interface ChangesV3 extends Omit<SnapshotV2, 'v' | 'config' | 'lastActivityMs'> {
  v: 3;
}

const SEP = '\u0000';

export class PartitionProcessor {
  private readonly cfg: StreamConfig;
  private maxTs = -Infinity;
  private watermark = -Infinity;
  private lastActivityMs: number | null = null;
  /** impressionId -> impression (join + impression dedup state) */
  private readonly impressions = new Map<string, StoredImpression>();
  /** impressionId -> click (click dedup state; matched=false means pending) */
  private readonly clicks = new Map<string, StoredClick>();
  /** coarse time buckets of keys, so eviction does not scan every entry */
  private readonly impBuckets = new Map<number, string[]>();
  private readonly clickBuckets = new Map<number, string[]>();
  /** bucket -> unmatched clicks replaced (re-sent with a newer ts) before their bucket was evicted */
  private readonly orphanUnmatched = new Map<number, number>();
  /** windowStart -> (adId SEP campaignId) -> counts, open windows only */
  private readonly windows = new Map<number, Map<string, Counts>>();
  /** Since the last snapshot()/changes(): ids set or changed, window cells touched. Off until a first snapshot. */
  private tracking = false;
  private impChanged: string[] = [];
  private clickChanged: string[] = [];
  private cellsTouched = new Map<Counts, number>();

  constructor(config: Partial<StreamConfig> = {}) {
    this.cfg = { ...DEFAULT_STREAM_CONFIG, ...config };
    const c = this.cfg;
    if (!(c.windowMs > 0) || c.outOfOrdernessMs < 0 || c.allowedLatenessMs < 0) throw new Error('invalid window config');
    // Anything older than watermark - ttl must already be in a closed window, so dropping it is safe.
    if (c.ttlMs < c.windowMs + c.allowedLatenessMs) throw new Error('ttlMs must be >= windowMs + allowedLatenessMs');
  }

  get currentWatermark(): number { return this.watermark; }

  /** Sizes of the keyed state (for metrics and tests). */
  stateSize(): { impressions: number; clicks: number; pendingClicks: number; openWindows: number } {
    let pending = 0;
    for (const c of this.clicks.values()) if (!c.matched) pending++;
    return { impressions: this.impressions.size, clicks: this.clicks.size, pendingClicks: pending, openWindows: this.windows.size };
  }

  process(events: readonly AdEvent[], nowMs?: number): ProcessResult {
    let late = 0;
    for (const e of events) {
      if (!Number.isFinite(e.ts)) continue; // malformed: the adapter should dead-letter these
      if (e.type === 'impression') late += this.onImpression(e);
      else if (e.type === 'click') late += this.onClick(e);
      else continue;
      if (e.ts > this.maxTs) {
        this.maxTs = e.ts;
        const wm = e.ts - this.cfg.outOfOrdernessMs;
        if (wm > this.watermark) this.watermark = wm;
      }
    }
    if (nowMs !== undefined && events.length > 0) this.lastActivityMs = nowMs;
    return this.finishBatch(late);
  }

  /**
   * Idle flush: if no events arrived for idleTimeoutMs of processing time, assume event time kept pace with
   * processing time and advance the watermark by the idle duration, closing windows and evicting state.
   */
  onIdle(nowMs: number): ProcessResult {
    if (this.lastActivityMs === null) { this.lastActivityMs = nowMs; return this.finishBatch(0); }
    const idle = nowMs - this.lastActivityMs;
    if (idle >= this.cfg.idleTimeoutMs && this.maxTs !== -Infinity) {
      const wm = this.maxTs - this.cfg.outOfOrdernessMs + idle;
      if (wm > this.watermark) this.watermark = wm;
    }
    return this.finishBatch(0);
  }

  /**
   * Version 2: columnar. The (adId, campaignId) pairs of held impressions and clicks go into a
   * dictionary once (10k ads, not one pair per impression) and event times are delta-coded in
   * insertion order, so the checkpoint row is about half of v1's JSON (the checkpoint's cost is
   * mostly PostgreSQL writing that row). restore() reads v1 and v2.
   */
  snapshot(): string {
    const windows: [number, Counts[]][] = [];
    for (const [ws, m] of this.windows) windows.push([ws, [...m.values()].map((c) => ({ ...c }))]);
    this.resetChanges();
    const s: SnapshotV2 = {
      v: 2,
      config: this.cfg,
      // Processing time is no part of the state: a restore measures idleness afresh (see restore).
      lastActivityMs: null,
      ...this.entries(this.impressions.keys(), this.clicks.keys(), windows),
    };
    return JSON.stringify(s);
  }

  /**
   * Incremental checkpoint: what changed since the last snapshot() or changes(), to be restored after
   * that snapshot and every changes() since, in order. Null when nothing was snapshotted since this
   * processor was created (a full snapshot must come first). Its size follows the traffic since the
   * last call, not the state held (docs/ad-analytics.md §4).
   */
  changes(): string | null {
    if (!this.tracking) return null;
    const windows = new Map<number, Counts[]>();
    for (const [c, ws] of this.cellsTouched) {
      if (this.windows.get(ws)?.get(c.adId + SEP + c.campaignId) !== c) continue; // closed since
      const list = windows.get(ws);
      if (list) list.push({ ...c }); else windows.set(ws, [{ ...c }]);
    }
    const imp = new Set(this.impChanged);
    const clk = new Set(this.clickChanged);
    this.resetChanges();
    const s: ChangesV3 = { v: 3, ...this.entries(imp, clk, [...windows]) };
    return JSON.stringify(s);
  }

  private resetChanges(): void {
    this.tracking = true;
    this.impChanged = [];
    this.clickChanged = [];
    this.cellsTouched = new Map();
  }

  /** The columnar body shared by v2 and v3: the given impression and click ids that are still held. */
  private entries(impKeys: Iterable<string>, clickKeys: Iterable<string>, windows: [number, Counts[]][]): Omit<ChangesV3, 'v'> {
    const pairs: string[] = [];
    const pairIndex = new Map<string, number>();
    const ref = (adId: string, campaignId: string): number => {
      const k = adId + SEP + campaignId;
      let i = pairIndex.get(k);
      if (i === undefined) {
        i = pairs.length / 2;
        pairIndex.set(k, i);
        pairs.push(adId, campaignId);
      }
      return i;
    };
    const column = <E extends StoredImpression>(keys: Iterable<string>, held: Map<string, E>, each?: (e: E) => void) => {
      const col = { ids: [] as string[], ts: [] as number[], ref: [] as number[] };
      let prev = 0;
      for (const id of keys) {
        const e = held.get(id);
        if (!e) continue; // evicted since it changed
        col.ids.push(id);
        col.ts.push(e.ts - prev);
        prev = e.ts;
        col.ref.push(ref(e.adId, e.campaignId));
        each?.(e);
      }
      return col;
    };
    const impressions = column(impKeys, this.impressions);
    const matched: number[] = [];
    const clicks = { ...column(clickKeys, this.clicks, (c) => matched.push(c.matched ? 1 : 0)), matched };
    return {
      maxTs: fin(this.maxTs),
      watermark: fin(this.watermark),
      pairs,
      impressions,
      clicks,
      windows,
      orphanUnmatched: [...this.orphanUnmatched],
    };
  }

  /** A snapshot (v1, v2) and then the changes (v3) taken after it, in order. */
  static restore(json: string, changes: readonly string[] = []): PartitionProcessor {
    const s = JSON.parse(json) as SnapshotV1 | SnapshotV2;
    if (s.v !== 1 && s.v !== 2) throw new Error(`unsupported snapshot version ${String((s as { v: unknown }).v)}`);
    const p = new PartitionProcessor(s.config);
    // Not s.lastActivityMs: the time between the checkpoint and this restore is a downtime, not
    // idleness (the log kept filling meanwhile). Counting it would advance the watermark by the whole
    // downtime before the backlog is read and count its on-time events late. Idleness counts from here.
    p.lastActivityMs = null;
    if (s.v === 1) {
      p.apply({ ...s, pairs: [], impressions: { ids: [], ts: [], ref: [] }, clicks: { ids: [], ts: [], ref: [], matched: [] } });
      for (const [id, imp] of s.impressions) p.impressions.set(id, { ...imp });
      for (const [id, c] of s.clicks) p.clicks.set(id, { ...c });
    } else p.apply(s);
    for (const json of changes) {
      const c = JSON.parse(json) as ChangesV3;
      if (c.v !== 3) throw new Error(`unsupported changes version ${String((c as { v: unknown }).v)}`);
      p.apply(c);
    }
    // What the live state had evicted or closed by the last restored point goes again (a no-op after a
    // lone snapshot, which is taken after eviction); the rest gets its time buckets.
    for (const [held, buckets] of [[p.impressions, p.impBuckets], [p.clicks, p.clickBuckets]] as const) {
      for (const [id, e] of held) {
        if (p.bucketExpired(p.windowStart(e.ts))) held.delete(id);
        else p.bucketAdd(buckets, e.ts, id);
      }
    }
    for (const ws of [...p.windows.keys()]) if (p.windowClosed(ws)) p.windows.delete(ws);
    p.tracking = true; // the restored state is what is durable: changes from here on are valid
    return p;
  }

  /** Sets the entries, window cells and scalars of a v2 snapshot or v3 changes (later values win). */
  private apply(s: Omit<ChangesV3, 'v'>): void {
    this.maxTs = s.maxTs ?? -Infinity;
    this.watermark = s.watermark ?? -Infinity;
    const rows = (col: { ids: string[]; ts: number[]; ref: number[] }, set: (id: string, e: StoredImpression, i: number) => void) => {
      let ts = 0;
      for (let i = 0; i < col.ids.length; i++) {
        ts += col.ts[i];
        set(col.ids[i], { ts, adId: s.pairs[2 * col.ref[i]], campaignId: s.pairs[2 * col.ref[i] + 1] }, i);
      }
    };
    rows(s.impressions, (id, e) => this.impressions.set(id, e));
    rows(s.clicks, (id, e, i) => this.clicks.set(id, { ...e, matched: s.clicks.matched[i] === 1 }));
    for (const [ws, list] of s.windows) {
      const m = this.windowAt(ws);
      for (const c of list) m.set(c.adId + SEP + c.campaignId, { ...c });
    }
    this.orphanUnmatched.clear();
    for (const [b, n] of s.orphanUnmatched) this.orphanUnmatched.set(b, n);
  }

  private expired(ts: number): boolean { return ts + this.cfg.ttlMs < this.watermark; }
  /** buckets (of keys, of orphan counts) are windowMs wide: one is expired once every ts in it is */
  private bucketExpired(b: number): boolean { return this.expired(b + this.cfg.windowMs - 1); }
  private windowStart(ts: number): number { return ts - mod(ts, this.cfg.windowMs); }
  private windowClosed(ws: number): boolean { return ws + this.cfg.windowMs + this.cfg.allowedLatenessMs <= this.watermark; }

  /** returns 1 if the event was late */
  private onImpression(e: AdEvent): number {
    const prev = this.impressions.get(e.impressionId);
    if (prev && !this.expired(prev.ts)) return 0; // duplicate
    if (this.expired(e.ts)) return 1; // beyond TTL: window long closed, cannot dedup/join
    const imp: StoredImpression = { ts: e.ts, adId: e.adId, campaignId: e.campaignId };
    this.impressions.set(e.impressionId, imp);
    this.bucketAdd(this.impBuckets, e.ts, e.impressionId);
    if (this.tracking) this.impChanged.push(e.impressionId);
    let late = this.contribute(e.ts, imp, 'impressions');
    const c = this.clicks.get(e.impressionId);
    if (c && !c.matched && !this.expired(c.ts) && joinable(c.ts, e.ts, this.cfg.ttlMs)) {
      c.matched = true;
      c.adId = imp.adId;
      c.campaignId = imp.campaignId;
      if (this.tracking) this.clickChanged.push(e.impressionId);
      late += this.contribute(c.ts, imp, 'clicks');
    }
    return late;
  }

  private onClick(e: AdEvent): number {
    const prev = this.clicks.get(e.impressionId);
    if (prev && !this.expired(prev.ts)) return 0; // duplicate
    if (this.expired(e.ts)) return 1;
    if (prev && !prev.matched) {
      // the old click expired unmatched but its bucket is not evicted yet: keep its report for that bucket
      const b = this.windowStart(prev.ts);
      this.orphanUnmatched.set(b, (this.orphanUnmatched.get(b) ?? 0) + 1);
    }
    const c: StoredClick = { ts: e.ts, adId: e.adId, campaignId: e.campaignId, matched: false };
    this.clicks.set(e.impressionId, c);
    this.bucketAdd(this.clickBuckets, e.ts, e.impressionId);
    if (this.tracking) this.clickChanged.push(e.impressionId);
    const imp = this.impressions.get(e.impressionId);
    if (imp && !this.expired(imp.ts) && joinable(e.ts, imp.ts, this.cfg.ttlMs)) {
      c.matched = true;
      c.adId = imp.adId;
      c.campaignId = imp.campaignId;
      return this.contribute(e.ts, imp, 'clicks');
    }
    return 0; // pending: waits for its impression up to the TTL
  }

  /** adds one to the window of `ts` (attributed to the impression's ad); returns 1 if that window is closed */
  private contribute(ts: number, ad: { adId: string; campaignId: string }, field: 'impressions' | 'clicks'): number {
    const ws = this.windowStart(ts);
    if (this.windowClosed(ws)) return 1;
    const m = this.windowAt(ws);
    const key = ad.adId + SEP + ad.campaignId;
    let c = m.get(key);
    if (!c) { c = { adId: ad.adId, campaignId: ad.campaignId, impressions: 0, clicks: 0 }; m.set(key, c); }
    c[field]++;
    if (this.tracking) this.cellsTouched.set(c, ws);
    return 0;
  }

  private windowAt(ws: number): Map<string, Counts> {
    let m = this.windows.get(ws);
    if (!m) this.windows.set(ws, (m = new Map()));
    return m;
  }

  private finishBatch(late: number): ProcessResult {
    const closedWindows: WindowAggregate[] = [];
    const starts = [...this.windows.keys()].filter((ws) => this.windowClosed(ws)).sort((a, b) => a - b);
    for (const ws of starts) {
      const rows = [...this.windows.get(ws)!.values()].sort(byAd);
      for (const r of rows) closedWindows.push({ windowStart: ws, windowEnd: ws + this.cfg.windowMs, ...r });
      this.windows.delete(ws);
    }
    let unmatched = 0;
    for (const [b, n] of this.orphanUnmatched) {
      if (this.bucketExpired(b)) { unmatched += n; this.orphanUnmatched.delete(b); }
    }
    this.evict(this.impBuckets, (id) => {
      const imp = this.impressions.get(id);
      if (imp && this.expired(imp.ts)) this.impressions.delete(id);
    });
    this.evict(this.clickBuckets, (id) => {
      const c = this.clicks.get(id);
      if (c && this.expired(c.ts)) {
        if (!c.matched) unmatched++;
        this.clicks.delete(id);
      }
    });
    return { closedWindows, late, unmatched };
  }

  private evict(buckets: Map<number, string[]>, onKey: (id: string) => void): void {
    const due = [...buckets.keys()].filter((b) => this.bucketExpired(b)).sort((a, b) => a - b);
    for (const b of due) {
      for (const id of buckets.get(b)!) onKey(id);
      buckets.delete(b);
    }
  }

  private bucketAdd(buckets: Map<number, string[]>, ts: number, id: string): void {
    const b = this.windowStart(ts);
    const list = buckets.get(b);
    if (list) list.push(id); else buckets.set(b, [id]);
  }
}

function joinable(clickTs: number, impTs: number, ttl: number): boolean {
  return Math.abs(clickTs - impTs) <= ttl;
}
function mod(a: number, n: number): number { return ((a % n) + n) % n; }
function fin(x: number): number | null { return Number.isFinite(x) ? x : null; }
/** Code-unit order of two strings (not locale order): ids sort the same everywhere. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
function byAd(a: Counts, b: Counts): number {
  return cmp(a.adId, b.adId) || cmp(a.campaignId, b.campaignId);
}
