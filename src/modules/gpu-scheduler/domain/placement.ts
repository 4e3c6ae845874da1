import { Allocation, anyType, GpuNode, Task } from './model';

/** A node's schedulable free GPUs during one cycle (a working copy; the input state is never mutated). */
export interface ViewNode {
  node: GpuNode;
  free: number[];
}

/** Pluggable scoring: higher is better. `freeAfter` = free GPUs left on the node after placing. */
export interface NodeScorer {
  readonly name: string;
  score(node: GpuNode, freeBefore: number, freeAfter: number, task: Task): number;
}

/** Worst-fit: leave the most free GPUs on the chosen node (spreads load, keeps headroom). */
export const worstFit: NodeScorer = { name: 'worst-fit', score: (_n, _b, after) => after };
/** Best-fit: pack onto the node that is left with the fewest free GPUs (keeps whole nodes free for gangs). */
export const bestFit: NodeScorer = { name: 'best-fit', score: (_n, _b, after) => -after };

/** `gpuType` may list alternatives separated by '|' (e.g. 'V100M16|V100M32'). */
export function allowedTypes(task: Task): string[] {
  return task.gpuType!.split('|');
}

export function nodeEligible(node: GpuNode, task: Task): boolean {
  return (
    node.status === 'ACTIVE' &&
    (anyType(task) || allowedTypes(task).includes(node.gpuType)) &&
    node.gpuMemoryGb >= task.gpuMemoryGb
  );
}

/** Working copy of the cluster's ACTIVE nodes and free GPUs, grouped by GPU type. */
export class ClusterView {
  readonly byType = new Map<string, ViewNode[]>();
  readonly byId = new Map<string, ViewNode>();
  private readonly freeByType = new Map<string, number>();
  /** Free GPUs over all types: 0 lets a cycle stop scanning the queue (nothing can start any more). */
  private freeAll = 0;

  constructor(nodes: readonly GpuNode[], copyFree = true) {
    for (const node of nodes) {
      if (node.status !== 'ACTIVE') continue;
      const vn: ViewNode = { node, free: copyFree ? [...node.freeGpuIndices] : node.freeGpuIndices };
      this.byId.set(node.id, vn);
      let g = this.byType.get(node.gpuType);
      if (!g) this.byType.set(node.gpuType, (g = []));
      g.push(vn);
      this.freeByType.set(node.gpuType, (this.freeByType.get(node.gpuType) ?? 0) + vn.free.length);
      this.freeAll += vn.free.length;
    }
  }

  clone(): ClusterView {
    const c = new ClusterView([], true);
    for (const [type, group] of this.byType) {
      const g: ViewNode[] = group.map((vn) => ({ node: vn.node, free: [...vn.free] }));
      c.byType.set(type, g);
      for (const vn of g) c.byId.set(vn.node.id, vn);
      c.freeByType.set(type, this.freeByType.get(type) ?? 0);
    }
    c.freeAll = this.freeAll;
    return c;
  }

  totalFree(type: string): number {
    return this.freeByType.get(type) ?? 0;
  }

  totalFreeAll(): number {
    return this.freeAll;
  }

  /** Remove GPUs from the free lists. Throws if a GPU is not free (over-allocation guard). */
  take(allocs: readonly Allocation[]): void {
    for (const a of allocs) {
      const vn = this.byId.get(a.nodeId);
      if (!vn) throw new Error(`node ${a.nodeId} is not schedulable`);
      for (const idx of a.gpuIndices) {
        const i = vn.free.indexOf(idx);
        if (i < 0) throw new Error(`GPU ${a.nodeId}#${idx} is not free`);
        vn.free.splice(i, 1);
      }
      this.freeByType.set(vn.node.gpuType, this.totalFree(vn.node.gpuType) - a.gpuIndices.length);
      this.freeAll -= a.gpuIndices.length;
    }
  }

  /** Return GPUs to the free lists; `front` puts them first so the next placement prefers them. */
  release(allocs: readonly Allocation[], front = false): void {
    for (const a of allocs) {
      const vn = this.byId.get(a.nodeId);
      if (!vn) continue; // node no longer ACTIVE: its GPUs are not schedulable
      if (front) vn.free.unshift(...a.gpuIndices);
      else vn.free.push(...a.gpuIndices);
      this.freeByType.set(vn.node.gpuType, this.totalFree(vn.node.gpuType) + a.gpuIndices.length);
      this.freeAll += a.gpuIndices.length;
    }
  }
}

/**
 * Remembers, per eligibility class (gpuType, per-GPU memory), the smallest gang that failed to place on
 * a view that only shrinks afterwards. placeGang fails exactly when, for every allowed type, the free
 * GPUs on eligible nodes are fewer than the gang; that stays true as GPUs are taken and holds for any
 * larger gang of the same class, so such tasks can be skipped without calling placeGang: same result,
 * O(1) instead of O(nodes). Valid only while the view is never released into.
 */
export class PlacementFailureMemo {
  private readonly minFailed = new Map<string, number>();

  private static key(t: Task): string {
    return `${anyType(t) ? '*' : t.gpuType}|${t.gpuMemoryGb}`;
  }

  /** true when placeGang(t) on the remembered view is known to fail. */
  knownToFail(t: Task): boolean {
    const m = this.minFailed.get(PlacementFailureMemo.key(t));
    return m !== undefined && t.gpuCount >= m;
  }

  recordFailure(t: Task): void {
    const k = PlacementFailureMemo.key(t);
    const m = this.minFailed.get(k);
    if (m === undefined || t.gpuCount < m) this.minFailed.set(k, t.gpuCount);
  }
}

/**
 * Gang placement: all `task.gpuCount` GPUs at once or nothing. One node when one fits (chosen by the
 * scorer), otherwise the fewest nodes of a single GPU type (largest free first). Never partial.
 */
export function placeGang(task: Task, view: ClusterView, scorer: NodeScorer = worstFit): Allocation[] | undefined {
  const need = task.gpuCount;
  if (need <= 0) return undefined;
  const types = anyType(task) ? [...view.byType.keys()] : allowedTypes(task);

  // 1) single node
  let best: ViewNode | undefined;
  let bestScore = -Infinity;
  for (const type of types) {
    if (view.totalFree(type) < need) continue;
    for (const vn of view.byType.get(type) ?? []) {
      const f = vn.free.length;
      if (f < need || !nodeEligible(vn.node, task)) continue;
      const s = scorer.score(vn.node, f, f - need, task);
      if (s > bestScore) {
        bestScore = s;
        best = vn;
      }
    }
  }
  if (best) return [{ nodeId: best.node.id, gpuIndices: best.free.slice(0, need) }];

  // 2) fewest nodes of one type: greedy by free count descending is optimal for the node count
  let bestMulti: Allocation[] | undefined;
  for (const type of types) {
    if (view.totalFree(type) < need) continue;
    const cands = (view.byType.get(type) ?? []).filter((vn) => vn.free.length > 0 && nodeEligible(vn.node, task));
    cands.sort((a, b) => b.free.length - a.free.length);
    const allocs: Allocation[] = [];
    let left = need;
    for (const vn of cands) {
      if (left <= 0) break;
      const k = Math.min(left, vn.free.length);
      allocs.push({ nodeId: vn.node.id, gpuIndices: vn.free.slice(0, k) });
      left -= k;
    }
    if (left > 0) continue;
    if (!bestMulti || allocs.length < bestMulti.length) bestMulti = allocs;
  }
  return bestMulti;
}
