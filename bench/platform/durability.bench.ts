/**
 * What durability costs on the embedded path: the in-process event log and key/value store in memory
 * (DATA_DIR=memory) against the same stores journaled to disk with fdatasync before each answer
 * (DATA_DIR=<folder>), in the same run, one caller at a time and with many callers in flight (the
 * journal's group commit shares one fdatasync between them).
 *   npx ts-node --transpile-only bench/platform/durability.bench.ts [seconds=5] [dir=<system temp>]
 * `dir` picks the disk: the temp dir may be a tmpfs, where fdatasync costs nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableKeyValueStore } from '../../src/platform/kv/durable-key-value-store';
import { MemoryKeyValueStore } from '../../src/platform/kv/memory-key-value-store';
import { MemoryEventBus } from '../../src/platform/messaging/memory-event-bus';

const seconds = Number(process.argv[2] ?? 5);
const base = process.argv[3] ?? tmpdir();

/** Runs `op` from `callers` concurrent loops for the time given; ops/s and the median latency. */
async function measure(callers: number, op: (i: number) => Promise<unknown>): Promise<{ perSec: number; p50Ms: number; p99Ms: number }> {
  const end = performance.now() + seconds * 1000;
  const lat: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op(n++);
        lat.push(performance.now() - t);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { perSec: lat.length / seconds, p50Ms: lat[Math.floor(lat.length / 2)], p99Ms: lat[Math.floor(lat.length * 0.99)] };
}

async function main() {
  const dir = mkdtempSync(join(base, 'tetrad-durability-bench-'));
  const value = 'x'.repeat(200); // about a tracked ad event
  const rows: string[][] = [];
  const row = (what: string, callers: number, mem: { perSec: number; p50Ms: number }, dur: { perSec: number; p50Ms: number; p99Ms: number }) =>
    rows.push([what, String(callers), mem.perSec.toFixed(0), dur.perSec.toFixed(0), (dur.perSec / mem.perSec).toFixed(3), mem.p50Ms.toFixed(3), dur.p50Ms.toFixed(2), dur.p99Ms.toFixed(2)]);
  try {
    for (const callers of [1, 64]) {
      const memBus = new MemoryEventBus(6);
      const durBus = await MemoryEventBus.open(join(dir, `bus-${callers}.log`), 6);
      for (const b of [memBus, durBus]) await b.ensureTopics([{ name: 'bench' }]);
      const publish = (b: MemoryEventBus) => (i: number) => b.publish('bench', [{ key: `k${i % 1000}`, value }]);
      row('EventBus.publish (1 message)', callers, await measure(callers, publish(memBus)), await measure(callers, publish(durBus)));
      await Promise.all([memBus.close(), durBus.close()]);

      const memKv = new MemoryKeyValueStore();
      const durKv = await DurableKeyValueStore.open(join(dir, `kv-${callers}.log`));
      const hset = (kv: MemoryKeyValueStore) => (i: number) => kv.hSet('board', { [`p${i % 100_000}`]: i });
      row('KeyValueStore.hSet', callers, await measure(callers, hset(memKv)), await measure(callers, hset(durKv)));
      const get = (kv: MemoryKeyValueStore) => (i: number) => kv.hGet('board', `p${i % 100}`);
      row('KeyValueStore.hGet (read)', callers, await measure(callers, get(memKv)), await measure(callers, get(durKv)));
      await Promise.all([memKv.close(), durKv.close()]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`durable files under ${base}; ${seconds} s per cell`);
  console.log('| operation | callers | memory ops/s | durable ops/s | durable/memory | memory p50 ms | durable p50 ms | durable p99 ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

void main();
