/**
 * Ad-analytics stream core (one PartitionProcessor, one thread).
 *   npx ts-node --transpile-only bench/ad-analytics/stream-core.bench.ts
 * 1. Throughput: impressions over 10,000 ads with Zipf(1) skew, 1% CTR (click 0-30 s after its impression,
 *    delivered with local reordering), 0.5% duplicate deliveries, default config (1 min windows, 1 h TTL,
 *    2 min lateness). Event time advances EVENT_RATE events/s, so after 1 h of event time the TTL evicts and
 *    the state is at steady size; the second half of the run is reported separately as "steady".
 *    Only PartitionProcessor.process() is timed, not event generation.
 * 2. Bytes per pending impression: heapUsed delta (after forced GC) for 1,000,000 impressions held in
 *    keyed state (36-char ids, none evicted), divided by the count; plus snapshot JSON bytes and time.
 */
import * as v8 from 'v8';
import * as vm from 'vm';
import { AdEvent, PartitionProcessor } from '../../src/modules/ad-analytics/domain';

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

const EVENTS = Number(process.env.EVENTS ?? 4_000_000);
const EVENT_RATE = Number(process.env.EVENT_RATE ?? 500); // events per second of event time
const BATCH = Number(process.env.BATCH ?? 500);
const PENDING = Number(process.env.PENDING ?? 1_000_000);
const ADS = 10_000;

let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

// Zipf(1) over 10k ads
const cum = new Float64Array(ADS);
let acc = 0;
for (let i = 0; i < ADS; i++) { acc += 1 / (i + 1); cum[i] = acc; }
function pickAd(): number {
  const x = rnd() * acc;
  let lo = 0, hi = ADS - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}
const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const uuidish = (i: number) => `${hex(i, 8)}-0000-4000-8000-${hex(i * 2654435761 % 2 ** 48, 12)}`; // 36 chars

function* stream(n: number): Generator<AdEvent[]> {
  const delayed: { due: number; e: AdEvent }[] = [];
  let emitted = 0, i = 0;
  const t0 = 1_700_000_000_000;
  while (emitted < n) {
    const batch: AdEvent[] = [];
    while (batch.length < BATCH) {
      const ts = t0 + Math.floor((i * 1000) / EVENT_RATE);
      const ad = pickAd();
      const e: AdEvent = { type: 'impression', impressionId: uuidish(i), adId: 'ad' + ad, campaignId: 'c' + (ad % 500), ts };
      batch.push(e);
      if (rnd() < 0.005) batch.push({ ...e });
      if (rnd() < 0.01) {
        const cts = ts + Math.floor(rnd() * 30_000);
        delayed.push({ due: i + Math.floor(rnd() * 40 * EVENT_RATE) - 5 * EVENT_RATE, e: { ...e, type: 'click', ts: cts } });
      }
      for (let k = delayed.length - 1; k >= 0; k--) if (delayed[k].due <= i) { batch.push(delayed[k].e); delayed.splice(k, 1); }
      i++;
    }
    emitted += batch.length;
    yield batch;
  }
}

function throughput(): void {
  const p = new PartitionProcessor();
  let n = 0, ns = 0n, steadyN = 0, steadyNs = 0n, windows = 0, late = 0, unmatched = 0;
  for (const batch of stream(EVENTS)) {
    const a = process.hrtime.bigint();
    const r = p.process(batch, 0);
    const d = process.hrtime.bigint() - a;
    ns += d; n += batch.length;
    if (n > EVENTS / 2) { steadyNs += d; steadyN += batch.length; }
    windows += r.closedWindows.length; late += r.late; unmatched += r.unmatched;
  }
  const s = p.stateSize();
  console.log(`throughput: ${n} events in ${(Number(ns) / 1e9).toFixed(2)} s process() time = ${Math.round(n / (Number(ns) / 1e9)).toLocaleString('en')} events/s`);
  console.log(`  steady (2nd half, TTL evicting): ${Math.round(steadyN / (Number(steadyNs) / 1e9)).toLocaleString('en')} events/s`);
  console.log(`  event time covered: ${(n / EVENT_RATE / 3600).toFixed(2)} h at ${EVENT_RATE} ev/s; closed window rows ${windows}, late ${late}, unmatched ${unmatched}`);
  console.log(`  final state: ${JSON.stringify(s)}, heapUsed ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

function bytesPerPending(): void {
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  const p = new PartitionProcessor();
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < PENDING; i += BATCH) {
    const batch: AdEvent[] = [];
    for (let j = i; j < i + BATCH && j < PENDING; j++) {
      const ad = pickAd();
      batch.push({ type: 'impression', impressionId: uuidish(j), adId: 'ad' + ad, campaignId: 'c' + (ad % 500), ts: t0 + Math.floor(j / 1000) }); // 1000 ev/ms: all within TTL
    }
    p.process(batch, 0);
  }
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`pending impressions: ${p.stateSize().impressions}, heapUsed delta ${((after - before) / 2 ** 20).toFixed(1)} MiB = ${Math.round((after - before) / PENDING)} bytes/impression`);
  const a = process.hrtime.bigint();
  const snap = p.snapshot();
  const b = process.hrtime.bigint();
  const r = PartitionProcessor.restore(snap);
  const c = process.hrtime.bigint();
  console.log(`  snapshot: ${(snap.length / 2 ** 20).toFixed(1)} MiB JSON (${Math.round(snap.length / PENDING)} B/impression), snapshot ${(Number(b - a) / 1e6).toFixed(0)} ms, restore ${(Number(c - b) / 1e6).toFixed(0)} ms (${r.stateSize().impressions} restored)`);
}

console.log(`node ${process.version}, ${new Date().toISOString()}`);
throughput();
gc();
bytesPerPending();
