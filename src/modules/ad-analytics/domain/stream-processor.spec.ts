import { seededRandom } from '../../../platform/random/seeded-random';
import { AdEvent, PartitionProcessor, ProcessResult, StreamConfig, WindowAggregate } from './stream-processor';

const S = 1000;
const imp = (id: string, ad: string, t: number): AdEvent => ({ type: 'impression', impressionId: id, adId: ad, campaignId: 'c' + ad, ts: t * S });
const clk = (id: string, ad: string, t: number): AdEvent => ({ type: 'click', impressionId: id, adId: ad, campaignId: 'c' + ad, ts: t * S });
const row = (ws: number, ad: string, impressions: number, clicks: number): WindowAggregate => ({
  windowStart: ws * S, windowEnd: ws * S + 60 * S, adId: ad, campaignId: 'c' + ad, impressions, clicks,
});
const SMALL: Partial<StreamConfig> = { windowMs: 60 * S, outOfOrdernessMs: 5 * S, allowedLatenessMs: 10 * S, ttlMs: 120 * S, idleTimeoutMs: 30 * S };

describe('PartitionProcessor — hand-computed stream', () => {
  it('joins, dedups, windows, counts late and unmatched clicks', () => {
    const p = new PartitionProcessor(SMALL);
    // batch 1: wm ends at 70-5 = 65, window [0,60) closes at wm >= 70
    expect(p.process([
      imp('i1', 'A', 10), imp('i2', 'B', 20), clk('i1', 'A', 30), imp('i1', 'A', 10) /* dup */,
      clk('i3', 'A', 40) /* before its impression */, imp('i4', 'A', 70), imp('i5', 'B', 50) /* out of order, still open */,
      clk('i1', 'A', 35) /* dup click */,
    ], 0)).toEqual({ closedWindows: [], late: 0, unmatched: 0 });
    expect(p.stateSize().pendingClicks).toBe(1);
    // batch 2: i3 arrives and joins the pending click; wm -> 95 closes window 0; i8 is late for window 0
    expect(p.process([
      imp('i3', 'A', 45), clk('i6', 'B', 80) /* impression never arrives in time */, imp('i7', 'B', 100),
      imp('i8', 'A', 55) /* late */, clk('i8', 'A', 62) /* joins late impression, click minute 60 still open */,
    ], 1000)).toEqual({ closedWindows: [row(0, 'A', 2, 2), row(0, 'B', 2, 0)], late: 1, unmatched: 0 });
    // batch 3: click for window 0 is late; wm -> 205 closes window 60
    expect(p.process([clk('i2', 'B', 58), imp('i9', 'A', 210)], 2000))
      .toEqual({ closedWindows: [row(60, 'A', 1, 1), row(60, 'B', 1, 0)], late: 1, unmatched: 0 });
    // batch 4: i6's impression beyond the TTL is late; wm -> 295 closes window 180 and evicts bucket [60,120)
    expect(p.process([imp('i6', 'B', 80), imp('i10', 'B', 300)], 3000))
      .toEqual({ closedWindows: [row(180, 'A', 1, 0)], late: 1, unmatched: 1 });
    // idle flush: 40 s idle -> wm 335 (window 300 closes at 370), 80 s idle -> wm 375
    expect(p.onIdle(3000 + 20 * S)).toEqual({ closedWindows: [], late: 0, unmatched: 0 });
    expect(p.onIdle(3000 + 40 * S)).toEqual({ closedWindows: [], late: 0, unmatched: 0 });
    expect(p.currentWatermark).toBe(335 * S);
    expect(p.onIdle(3000 + 80 * S)).toEqual({ closedWindows: [row(300, 'B', 1, 0)], late: 0, unmatched: 0 });
    expect(p.stateSize().openWindows).toBe(0);
    // far enough: all join/dedup state evicted
    p.onIdle(3000 + 1000 * S);
    expect(p.stateSize()).toEqual({ impressions: 0, clicks: 0, pendingClicks: 0, openWindows: 0 });
  });

  it('closes a window exactly when the watermark reaches end + allowed lateness', () => {
    const p = new PartitionProcessor(SMALL);
    expect(p.process([imp('a', 'A', 59), imp('b', 'A', 74)]).closedWindows).toEqual([]); // wm 69
    expect(p.process([imp('c', 'A', 0), imp('d', 'A', 75)]).closedWindows).toEqual([row(0, 'A', 2, 0)]); // wm 70
    expect(p.process([imp('e', 'A', 59)])).toEqual({ closedWindows: [], late: 1, unmatched: 0 });
  });

  it('a restore after a downtime does not count the downtime as idleness: the backlog stays on time', () => {
    // Issue 9 item 8: the worker was down ~40 s; its checkpoint held the last-activity time from before,
    // so the first idle tick after the restore advanced the watermark by the whole downtime and closed
    // windows the backlog (tracked during the downtime, on time) still belonged to.
    const before = new PartitionProcessor(SMALL);
    expect(before.process([imp('a', 'A', 640), imp('b', 'A', 650)], 1_000_000)).toEqual({ closedWindows: [], late: 0, unmatched: 0 }); // wm 645
    const checkpoint = before.snapshot();
    const restored = PartitionProcessor.restore(checkpoint);
    const afterDowntime = 1_000_000 + 40 * S;
    expect(restored.onIdle(afterDowntime)).toEqual({ closedWindows: [], late: 0, unmatched: 0 });
    expect(restored.currentWatermark).toBe(645 * S);
    // The backlog: tracked while the worker was down, in the still-open window [600, 660).
    expect(restored.process([imp('c', 'A', 655), imp('d', 'A', 660)], afterDowntime + 10)).toEqual({ closedWindows: [], late: 0, unmatched: 0 });
    // Idleness counts again from the restore: 30 s without events after the backlog advances the watermark.
    const r = restored.onIdle(afterDowntime + 10 + 30 * S);
    expect(r).toEqual({ closedWindows: [row(600, 'A', 3, 0)], late: 0, unmatched: 0 });
  });

  it('a click re-sent with a newer ts after the first expired unmatched still reports the first', () => {
    const p = new PartitionProcessor(SMALL);
    p.process([clk('x', 'A', 0), imp('f', 'A', 126)]); // wm 121: click at 0 expired (0 + 120 < 121), bucket [0,60) not yet
    const r1 = p.process([clk('x', 'A', 125)]);
    expect(r1.unmatched).toBe(0);
    const r2 = p.process([imp('g', 'A', 185)]); // wm 180 > 59 + 120: bucket 0 evicted
    expect(r2.unmatched).toBe(1);
    const r3 = p.process([imp('h', 'A', 500)]);
    expect(r3.unmatched).toBe(1); // the re-sent click, also never matched
  });

  it('rejects a TTL shorter than window + lateness', () => {
    expect(() => new PartitionProcessor({ ttlMs: 1000 })).toThrow();
  });
});

// ---------- random streams ----------

function randomStream(seed: number, n: number): AdEvent[][] {
  const r = seededRandom(seed);
  const out: AdEvent[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * 3) * S; // whole seconds, so watermark/window boundaries coincide often
    const id = 'i' + i;
    const ad = 'a' + Math.floor(r() * 5);
    const jitter = () => Math.round((r() - 0.5) * 2 * (r() < 0.05 ? 200 : 20)) * S;
    if (r() < 0.9) out.push({ type: 'impression', impressionId: id, adId: ad, campaignId: 'c' + ad, ts: Math.max(0, t + jitter()) });
    if (r() < 0.4) out.push({ type: 'click', impressionId: id, adId: ad, campaignId: 'c' + ad, ts: Math.max(0, t + Math.floor(r() * 30) * S + jitter()) });
    if (r() < 0.1 && out.length) out.push({ ...out[Math.floor(r() * out.length)] }); // duplicate
    if (r() < 0.02 && out.length) { // re-sent much later with a new event time
      const d = out[Math.floor(r() * out.length)];
      out.push({ ...d, ts: d.ts + Math.floor(r() * 600) * S });
    }
  }
  // local shuffle: out-of-order delivery
  for (let i = 0; i < out.length; i++) {
    const j = Math.min(out.length - 1, i + Math.floor(r() * 8));
    [out[i], out[j]] = [out[j], out[i]];
  }
  const batches: AdEvent[][] = [];
  for (let i = 0; i < out.length;) { const k = 1 + Math.floor(r() * 40); batches.push(out.slice(i, i + k)); i += k; }
  return batches;
}

/** Brute-force reference: linear scans over every event ever kept, no buckets, no maps. */
class Oracle {
  wm = -Infinity; maxTs = -Infinity;
  imps: { id: string; ts: number; ad: string; camp: string }[] = [];
  clicks: { id: string; ts: number; matched: boolean; reported: boolean }[] = [];
  rows: { ws: number; ad: string; camp: string; imp: number; clk: number; emitted: boolean }[] = [];
  constructor(private c: StreamConfig) {}
  exp(ts: number) { return ts + this.c.ttlMs < this.wm; }
  ws(ts: number) { return Math.floor(ts / this.c.windowMs) * this.c.windowMs; }
  closed(ws: number) { return ws + this.c.windowMs + this.c.allowedLatenessMs <= this.wm; }
  add(ts: number, ad: string, camp: string, f: 'imp' | 'clk'): number {
    const ws = this.ws(ts);
    if (this.closed(ws)) return 1;
    let r = this.rows.find((x) => x.ws === ws && x.ad === ad && x.camp === camp);
    if (!r) { r = { ws, ad, camp, imp: 0, clk: 0, emitted: false }; this.rows.push(r); }
    r[f]++;
    return 0;
  }
  step(batch: AdEvent[]): ProcessResult {
    let late = 0;
    for (const e of batch) {
      late += this.one(e);
      this.maxTs = Math.max(this.maxTs, e.ts);
      this.wm = Math.max(this.wm, this.maxTs - this.c.outOfOrdernessMs);
    }
    return this.finish(late);
  }
  one(e: AdEvent): number {
    let late = 0;
    {
      const live = (xs: { id: string; ts: number }[]) => xs.filter((x) => x.id === e.impressionId && !this.exp(x.ts));
      if (e.type === 'impression') {
        if (live(this.imps).length) return 0;
        if (this.exp(e.ts)) return 1;
        this.imps.push({ id: e.impressionId, ts: e.ts, ad: e.adId, camp: e.campaignId });
        late += this.add(e.ts, e.adId, e.campaignId, 'imp');
        for (const c of live(this.clicks) as Oracle['clicks']) {
          if (!c.matched && Math.abs(c.ts - e.ts) <= this.c.ttlMs) { c.matched = true; late += this.add(c.ts, e.adId, e.campaignId, 'clk'); }
        }
      } else {
        if (live(this.clicks).length) return 0;
        if (this.exp(e.ts)) return 1;
        const c = { id: e.impressionId, ts: e.ts, matched: false, reported: false };
        this.clicks.push(c);
        const i = (live(this.imps) as Oracle['imps']).find((x) => Math.abs(e.ts - x.ts) <= this.c.ttlMs);
        if (i) { c.matched = true; late += this.add(e.ts, i.ad, i.camp, 'clk'); }
      }
    }
    return late;
  }
  finish(late: number): ProcessResult {
    const closedWindows = this.rows.filter((r) => !r.emitted && this.closed(r.ws))
      .sort((a, b) => a.ws - b.ws || (a.ad < b.ad ? -1 : a.ad > b.ad ? 1 : 0))
      .map((r) => { r.emitted = true; return { windowStart: r.ws, windowEnd: r.ws + this.c.windowMs, adId: r.ad, campaignId: r.camp, impressions: r.imp, clicks: r.clk }; });
    let unmatched = 0;
    for (const c of this.clicks) {
      // reported when its whole windowMs-wide eviction bucket has expired
      if (!c.matched && !c.reported && this.exp(this.ws(c.ts) + this.c.windowMs - 1)) { c.reported = true; unmatched++; }
    }
    return { closedWindows, late, unmatched };
  }
}

describe('PartitionProcessor — properties', () => {
  const cfg: StreamConfig = { windowMs: 60 * S, outOfOrdernessMs: 5 * S, allowedLatenessMs: 30 * S, ttlMs: 300 * S, idleTimeoutMs: 30 * S };

  // short windows and TTL relative to the event rate, so boundaries (exact close, expiry, eviction) are hit often
  const tight: StreamConfig = { windowMs: 10 * S, outOfOrdernessMs: 2 * S, allowedLatenessMs: 5 * S, ttlMs: 20 * S, idleTimeoutMs: 30 * S };
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((seed) => [seed, seed % 2 ? cfg : tight] as const))('matches a brute-force oracle on random stream (seed %i)', (seed, c) => {
    const batches = randomStream(seed, 1500);
    const p = new PartitionProcessor(c);
    const o = new Oracle(c);
    let totals = { late: 0, unmatched: 0, windows: 0 };
    batches.forEach((b) => {
      const got = p.process(b, 0);
      expect(got).toEqual(o.step(b));
      totals = { late: totals.late + got.late, unmatched: totals.unmatched + got.unmatched, windows: totals.windows + got.closedWindows.length };
    });
    expect(totals.late).toBeGreaterThan(0);
    expect(totals.unmatched).toBeGreaterThan(0);
    expect(totals.windows).toBeGreaterThan(0);
  });

  it('snapshot/restore mid-stream equals an uninterrupted run, and replay from the checkpoint is identical', () => {
    const batches = randomStream(42, 3000);
    const a = new PartitionProcessor(cfg);
    const full = batches.map((b) => a.process(b, 0));
    for (const k of [1, Math.floor(batches.length / 3), Math.floor(batches.length / 2)]) {
      const b = new PartitionProcessor(cfg);
      const head = batches.slice(0, k).map((x) => b.process(x, 0));
      const checkpoint = b.snapshot();
      const tail1 = batches.slice(k).map((x) => b.process(x, 0)); // keep going (crash after this)
      const r = PartitionProcessor.restore(checkpoint);
      expect(r.snapshot()).toBe(checkpoint);
      const replay = batches.slice(k).map((x) => r.process(x, 0));
      expect([...head, ...tail1]).toEqual(full);
      expect([...head, ...replay]).toEqual(full);
    }
  });

  it.each([3, 11, 42].flatMap((seed) => [[seed, cfg], [seed, tight]] as const))(
    'incremental checkpoints: snapshot + changes restore a state that continues like an uninterrupted run (seed %i)',
    (seed, c) => {
      // Checkpoints every few batches, a full snapshot now and then; a crash after any checkpoint
      // (and some batches beyond it) restores from the last snapshot plus every change after it.
      const batches = randomStream(seed, 3000);
      const a = new PartitionProcessor(c);
      const full = batches.map((b) => a.process(b, 0));
      const rnd = seededRandom(seed);
      const p = new PartitionProcessor(c);
      expect(p.changes()).toBeNull(); // nothing durable yet: a full snapshot comes first
      let base = p.snapshot();
      let changes: string[] = [];
      let restoredChecks = 0;
      const out: ProcessResult[] = [];
      for (let i = 0; i < batches.length; i++) {
        out.push(p.process(batches[i], 0));
        if (rnd() < 0.3) {
          if (rnd() < 0.15) [base, changes] = [p.snapshot(), []];
          else changes.push(p.changes()!);
          if (rnd() < 0.25 || i === Math.floor(batches.length / 2)) {
            const r = PartitionProcessor.restore(base, changes);
            const replay = batches.slice(i + 1).map((x) => r.process(x, 0));
            expect([...out, ...replay]).toEqual(full);
            restoredChecks++;
          }
        }
      }
      expect(out).toEqual(full);
      expect(restoredChecks).toBeGreaterThan(3);
      expect(full.some((r) => r.unmatched > 0) && full.some((r) => r.late > 0)).toBe(true);
    },
  );

  it('changes are much smaller than a snapshot once state is held', () => {
    const batches = randomStream(5, 3000);
    const p = new PartitionProcessor(cfg);
    batches.slice(0, 2900).forEach((b) => p.process(b, 0));
    const snap = p.snapshot();
    batches.slice(2900).forEach((b) => p.process(b, 0));
    expect(p.changes()!.length * 5).toBeLessThan(snap.length);
  });

  it('restores a version-1 snapshot (checkpoints written before the columnar format) to the same state', () => {
    const batches = randomStream(7, 3000);
    const a = new PartitionProcessor(cfg);
    const full = batches.map((b) => a.process(b, 0));
    const k = Math.floor(batches.length / 2);
    const b = new PartitionProcessor(cfg);
    const head = batches.slice(0, k).map((x) => b.process(x, 0));
    const v2 = b.snapshot();
    // The v1 writer's layout: [id, stored object] entries, absolute times.
    const s = JSON.parse(v2);
    expect(s.v).toBe(2);
    const entries = (col: { ids: string[]; ts: number[]; ref: number[]; matched?: number[] }) => {
      let ts = 0;
      return col.ids.map((id, i) => {
        ts += col.ts[i];
        const o: Record<string, unknown> = { ts, adId: s.pairs[2 * col.ref[i]], campaignId: s.pairs[2 * col.ref[i] + 1] };
        if (col.matched) o.matched = col.matched[i] === 1;
        return [id, o];
      });
    };
    const v1 = JSON.stringify({
      v: 1, config: s.config, maxTs: s.maxTs, watermark: s.watermark, lastActivityMs: s.lastActivityMs,
      impressions: entries(s.impressions), clicks: entries(s.clicks), windows: s.windows, orphanUnmatched: s.orphanUnmatched,
    });
    expect(s.impressions.ids.length).toBeGreaterThan(0);
    expect(s.clicks.ids.length).toBeGreaterThan(0);
    const r = PartitionProcessor.restore(v1);
    expect(r.snapshot()).toBe(v2);
    expect([...head, ...batches.slice(k).map((x) => r.process(x, 0))]).toEqual(full);
    expect(v2.length).toBeLessThan(v1.length);
  });

  it('TTL eviction bounds state size on an endless stream', () => {
    const p = new PartitionProcessor(cfg);
    const step = 100; // 10 events/s of event time
    let maxImps = 0; let maxClicks = 0;
    for (let i = 0; i < 200_000; i += 100) {
      const batch: AdEvent[] = [];
      for (let j = i; j < i + 100; j++) {
        batch.push({ type: 'impression', impressionId: 'i' + j, adId: 'a', campaignId: 'c', ts: j * step });
        if (j % 10 === 0) batch.push({ type: 'click', impressionId: 'x' + j, adId: 'a', campaignId: 'c', ts: j * step }); // never matched
      }
      p.process(batch, 0);
      const s = p.stateSize();
      maxImps = Math.max(maxImps, s.impressions); maxClicks = Math.max(maxClicks, s.clicks);
    }
    // live horizon = ttl + out-of-orderness + one eviction bucket (+ one batch)
    const bound = (cfg.ttlMs + cfg.outOfOrdernessMs + cfg.windowMs) / step + 100;
    expect(maxImps).toBeLessThanOrEqual(bound);
    expect(maxClicks).toBeLessThanOrEqual(bound / 10 + 10);
    expect(p.stateSize().openWindows).toBeLessThanOrEqual(3);
  });
});
