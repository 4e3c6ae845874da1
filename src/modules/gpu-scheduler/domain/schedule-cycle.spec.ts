import { ClusterView } from './placement';
import { RunningTask, Task } from './model';
import { computeReservation, scheduleCycle, SchedulerState } from './schedule-cycle';
import { DEFAULT_AGING, windowUsage } from './selection';
import { fullOrder, node, task } from '../../../../test/support/gpu-domain-fixtures';

const rt = (t: Task) => t.estimatedRuntimeSec ?? 100;

function running(id: string, nodeId: string, gpus: number[], end: number, over: Partial<Task> = {}): RunningTask {
  return { task: task(id, { gpuCount: gpus.length, ...over }), startedAt: 0, allocations: [{ nodeId, gpuIndices: gpus }], predictedEndAt: end };
}

describe('scheduleCycle policies', () => {
  const nodes = [node('n1', 4)];
  const queue = [
    task('n-old', { tier: 'normal', gpuCount: 4, submittedAt: 0 }),
    task('v-new', { tier: 'vip', gpuCount: 1, submittedAt: 5 }),
  ];
  const busy = [node('n1', 4, 'A100', [0, 1])];

  it('fifo takes submit order and blocks behind the head', () => {
    expect(scheduleCycle({ nodes, queue, running: [] }, 10, { policy: 'fifo', predictRuntime: rt }).decisions.map((d) => d.taskId)).toEqual(['n-old']);
    expect(scheduleCycle({ nodes: busy, queue, running: [] }, 10, { policy: 'fifo', predictRuntime: rt }).decisions).toEqual([]);
  });

  it('strict-priority starts VIP first', () => {
    const r = scheduleCycle({ nodes, queue, running: [] }, 10, { policy: 'strict-priority', predictRuntime: rt });
    expect(r.decisions.map((d) => d.taskId)).toEqual(['v-new']);
  });

  it('is pure: does not mutate the state', () => {
    const state: SchedulerState = { nodes, queue, running: [] };
    const snap = JSON.stringify(state);
    scheduleCycle(state, 10, { policy: 'full', predictRuntime: rt });
    expect(JSON.stringify(state)).toBe(snap);
  });
});

describe('quota selection (80:20 in a 1 h window) and aging', () => {
  const vips = [1, 2, 3, 4, 5].map((i) => task(`v${i}`, { tier: 'vip', submittedAt: i }));
  const normals = [1, 2, 3, 4, 5].map((i) => task(`n${i}`, { tier: 'normal', submittedAt: i }));
  const q = { windowSec: 3600, vipShare: 0.8 };
  const charge = () => 3600;

  it('VIP first while under its share, normal once VIP is over it', () => {
    const order = fullOrder([...normals, ...vips], 10, { vip: 0, normal: 0 }, q, DEFAULT_AGING, charge).map((t) => t.id);
    // shares after each pick: v 1/1 -> n, then v until v/(v+n) >= .8 (4 VIP per normal)
    expect(order.slice(0, 7)).toEqual(['v1', 'n1', 'v2', 'v3', 'v4', 'n2', 'v5']);
  });

  it('VIP over its window share yields to normal; an empty tier yields to the other', () => {
    expect(fullOrder([...normals, ...vips], 10, { vip: 900, normal: 100 }, q, DEFAULT_AGING, charge)[0].id).toBe('n1');
    expect(fullOrder(vips, 10, { vip: 900, normal: 100 }, q, DEFAULT_AGING, charge)[0].id).toBe('v1');
    expect(fullOrder(normals, 10, { vip: 0, normal: 0 }, q, DEFAULT_AGING, charge)[0].id).toBe('n1');
  });

  it('windowUsage counts GPU-seconds of finished and running work inside the window only', () => {
    const u = windowUsage(
      [
        { tier: 'vip', gpuCount: 2, start: 0, end: 1000 }, // 400 s inside [600, 4200]
        { tier: 'normal', gpuCount: 1, start: 0, end: 500 }, // outside
      ],
      [running('r', 'n1', [0, 1, 2], 9999, { tier: 'normal' })], // started at 0: 3600 s x 3 GPUs
      4200,
      3600,
    );
    expect(u).toEqual({ vip: 800, normal: 10_800 });
  });

  it('a task at the aging cap goes first regardless of tier and quota', () => {
    const old = task('starved', { tier: 'normal', submittedAt: 0 });
    const vipQ = { windowSec: 3600, vipShare: 1 };
    const order = fullOrder([...vips, old], DEFAULT_AGING.maxAgeSec, { vip: 0, normal: 0 }, vipQ, DEFAULT_AGING, charge);
    expect(order[0].id).toBe('starved');
    const before = fullOrder([...vips, old], DEFAULT_AGING.maxAgeSec - 1, { vip: 0, normal: 0 }, vipQ, DEFAULT_AGING, charge);
    expect(before[before.length - 1].id).toBe('starved');
  });
});

describe('EASY backfill', () => {
  // 1 node x 8 GPUs; a running task holds 6 GPUs until t=100.
  const nodes = [node('n1', 8, 'A100', [6, 7])];
  const run = [running('r', 'n1', [0, 1, 2, 3, 4, 5], 100)];
  const head = task('head', { gpuCount: 4, submittedAt: 0, estimatedRuntimeSec: 50 });

  it('reserves the head at the predicted finish of running tasks, preferring GPUs busy now', () => {
    const r = computeReservation(head, new ClusterView(nodes), run, 10);
    expect(r.at).toBe(100);
    expect(r.allocations[0].gpuIndices.every((g) => g < 6)).toBe(true);
  });

  it('starts a later task that ends before the reservation or uses GPUs the head will not need', () => {
    const short = task('short', { gpuCount: 2, submittedAt: 1, estimatedRuntimeSec: 50 });
    const longSpare = task('long-spare', { gpuCount: 2, submittedAt: 1, estimatedRuntimeSec: 1000 });
    for (const t of [short, longSpare]) {
      const r = scheduleCycle({ nodes, queue: [head, t], running: run }, 10, { policy: 'full', predictRuntime: rt });
      expect(r.decisions.map((d) => d.taskId)).toEqual([t.id]);
      expect(r.decisions[0].backfilled).toBe(true);
    }
  });

  it('refuses a later task that would delay the head', () => {
    const bigHead = task('head', { gpuCount: 8, submittedAt: 0 });
    const long = task('long', { gpuCount: 1, submittedAt: 1, estimatedRuntimeSec: 1000 });
    const r = scheduleCycle({ nodes, queue: [bigHead, long], running: run }, 10, { policy: 'full', predictRuntime: rt });
    expect(r.decisions).toEqual([]);
    expect(r.reservation!.at).toBe(100);
    const fifo = scheduleCycle({ nodes, queue: [bigHead, long], running: run }, 10, { policy: 'fifo', predictRuntime: rt });
    expect(fifo.decisions).toEqual([]);
  });

  it('a head that can never fit does not block the queue', () => {
    const impossible = task('huge', { gpuCount: 64, submittedAt: 0 });
    const small = task('small', { gpuCount: 1, submittedAt: 1, estimatedRuntimeSec: 10_000 });
    const r = scheduleCycle({ nodes, queue: [impossible, small], running: run }, 10, { policy: 'full', predictRuntime: rt });
    expect(r.reservation!.at).toBe(Infinity);
    expect(r.decisions.map((d) => d.taskId)).toEqual(['small']);
  });

  it('property: backfill never moves the head reservation later (random clusters)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let checked = 0;
    let backfilled = 0;
    for (let trial = 0; trial < 300; trial++) {
      const ns = [0, 1, 2].map((i) => node(`n${i}`, 8, 'A100', []));
      const runs: RunningTask[] = [];
      for (const n of ns) {
        const all = [...Array(8).keys()];
        let g = 0;
        while (g < 8) {
          const k = 1 + Math.floor(rnd() * 4);
          if (rnd() < 0.3) n.freeGpuIndices.push(...all.slice(g, g + k));
          else runs.push(running(`r${trial}-${n.id}-${g}`, n.id, all.slice(g, Math.min(8, g + k)), 10 + Math.floor(rnd() * 500)));
          g += k;
        }
        n.freeGpuIndices = n.freeGpuIndices.filter((x) => x < 8);
      }
      const queue = [...Array(12).keys()].map((i) =>
        task(`q${i}`, { submittedAt: i, gpuCount: 1 + Math.floor(rnd() * (i === 0 ? 16 : 6)), estimatedRuntimeSec: 1 + Math.floor(rnd() * 600) }),
      );
      const state = { nodes: ns, queue, running: runs };
      const r = scheduleCycle(state, 0, { policy: 'full', predictRuntime: rt });
      if (!r.reservation || r.reservation.at === Infinity) continue;
      const headId = r.reservation.taskId;
      // apply decisions, recompute the head's reservation
      const started = new Set(r.decisions.map((d) => d.taskId));
      const used = new Map<string, Set<number>>();
      for (const d of r.decisions) for (const a of d.allocations) for (const g of a.gpuIndices) {
        if (!used.has(a.nodeId)) used.set(a.nodeId, new Set());
        expect(used.get(a.nodeId)!.has(g)).toBe(false); // no double allocation inside a cycle
        used.get(a.nodeId)!.add(g);
      }
      const ns2 = ns.map((n) => ({ ...n, freeGpuIndices: n.freeGpuIndices.filter((g) => !used.get(n.id)?.has(g)) }));
      const runs2 = [
        ...runs,
        ...r.decisions.map((d) => ({ task: queue.find((t) => t.id === d.taskId)!, startedAt: 0, allocations: d.allocations, predictedEndAt: d.predictedEndAt })),
      ];
      const headTask = queue.find((t) => t.id === headId)!;
      expect(started.has(headId)).toBe(false);
      const after = computeReservation(headTask, new ClusterView(ns2), runs2, 0);
      expect(after.at).toBeLessThanOrEqual(r.reservation.at);
      checked++;
      backfilled += r.decisions.filter((d) => d.backfilled).length;
    }
    expect(checked).toBeGreaterThan(100);
    expect(backfilled).toBeGreaterThan(50);
  });
});
