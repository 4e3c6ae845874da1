import { Allocation, anyType, GangPlacement, gpuMilliOf, GpuNode, MILLI_PER_GPU, Task, usedMilliOf } from './model';

/**
 * A node's schedulable resources during one cycle (a working copy; the input state is never mutated).
 * `free` lists the fully free GPUs in preference order; `used` holds the milli taken on every GPU.
 */
export interface ViewNode {
  node: GpuNode;
  free: number[];
  used: number[];
  /** Sum over GPUs of (1000 - used). */
  freeMilli: number;
  /** Infinity when the node does not account CPU / memory. */
  cpuFree: number;
  memFree: number;
  /** Bumped on every change, so scorers may cache what they derive from a node's state. */
  rev: number;
  /** Free counters of the node's GPU type in the view that owns this copy. */
  typeFree: TypeFree;
  /** Position of the node in the list the view was built from (a scorer's tie-break). */
  order: number;
}

/** Free GPUs (fully free) and free milli of one GPU type in one view. */
interface TypeFree {
  gpus: number;
  milli: number;
}

/**
 * Pluggable scoring of one candidate placement on one node: higher is better. `gpu` is the GPU a share
 * (gpuMilli < 1000) would go on; -1 for whole GPUs (the first gpuCount of vn.free) and for CPU-only tasks.
 */
export interface NodeScorer {
  readonly name: string;
  score(vn: ViewNode, task: Task, gpu: number): number;
}

/** CPU the task would leave free on the node, as a fraction of capacity in [0, 1): a tie-break below one milli. */
function cpuLeftFraction(vn: ViewNode, task: Task): number {
  if (vn.node.cpuMilli === undefined || vn.node.cpuMilli <= 0) return 0;
  return (0.999 * (vn.cpuFree - (task.cpuMilli ?? 0))) / vn.node.cpuMilli;
}

/** Milli left on the chosen shared GPU after placing, scaled to [0, 1): orders GPUs within a node. */
function gpuLeftFraction(vn: ViewNode, task: Task, gpu: number): number {
  return gpu < 0 ? 0 : (0.999 * (MILLI_PER_GPU - vn.used[gpu] - gpuMilliOf(task))) / MILLI_PER_GPU;
}

/** GPU milli the node keeps free after placing `t`, plus a below-one-milli tie-break (what the GPU or CPU keeps). */
function milliLeft(vn: ViewNode, t: Task, gpu: number): number {
  return vn.freeMilli - t.gpuCount * gpuMilliOf(t) + (gpu >= 0 ? gpuLeftFraction(vn, t, gpu) : cpuLeftFraction(vn, t)) * 0.999;
}

/**
 * Worst-fit: leave the most free GPU milli on the chosen node (spreads load, keeps headroom); on a node,
 * the emptiest GPU that fits a share. With whole GPUs only this is "most free GPUs after placing".
 */
export const worstFit: NodeScorer = { name: 'worst-fit', score: milliLeft };
/**
 * Best-fit: pack onto the node left with the least free GPU milli, and a share onto the fullest GPU it
 * fits: keeps whole GPUs and whole nodes free for gangs.
 */
export const bestFit: NodeScorer = { name: 'best-fit', score: (vn, t, gpu) => -milliLeft(vn, t, gpu) };

/** `gpuType` may list alternatives separated by '|' (e.g. 'V100M16|V100M32'). */
export function allowedTypes(task: Task): string[] {
  return task.gpuType!.split('|');
}

export function nodeEligible(node: GpuNode, task: Task): boolean {
  return (
    node.status === 'ACTIVE' &&
    (task.gpuCount === 0 || anyType(task) || task.gpuType === node.gpuType || (task.gpuType!.includes('|') && allowedTypes(task).includes(node.gpuType))) &&
    node.gpuMemoryGb >= task.gpuMemoryGb
  );
}

function viewNodeOf(node: GpuNode, order: number): ViewNode {
  const used = usedMilliOf(node);
  const free = node.gpuUsedMilli ? node.freeGpuIndices.filter((g) => used[g] === 0) : [...node.freeGpuIndices];
  if (node.gpuUsedMilli) for (let g = 0; g < used.length; g++) if (used[g] === 0 && !free.includes(g)) free.push(g);
  let freeMilli = 0;
  for (const u of used) freeMilli += MILLI_PER_GPU - u;
  return {
    node,
    free,
    used,
    freeMilli,
    cpuFree: node.cpuMilli === undefined ? Infinity : node.cpuMilli - (node.cpuUsedMilli ?? 0),
    memFree: node.memoryMib === undefined ? Infinity : node.memoryMib - (node.memoryUsedMib ?? 0),
    rev: 0,
    typeFree: { gpus: 0, milli: 0 },
    order,
  };
}

/** Capacity shape of a registered node (any status): what "could ever hold" is judged on. */
interface NodeShape {
  gpuCount: number;
  gpuMemoryGb: number;
  cpuMilli: number;
  memoryMib: number;
}

/** Working copy of the cluster's ACTIVE nodes and their free resources, grouped by GPU type. */
export class ClusterView {
  readonly byType = new Map<string, ViewNode[]>();
  readonly byId = new Map<string, ViewNode>();
  private readonly freeByType = new Map<string, TypeFree>();
  /** Free GPU milli over all types (fully free GPUs and the free part of shared ones). */
  private freeMilliAll = 0;
  /** Distinct capacity shapes of every registered node (whatever its status), by GPU type. */
  private shapes = new Map<string, NodeShape[]>();
  /** couldEverHoldOnOneNode answers, by request; shared by clones (they share `shapes`). */
  private oneNodeCache = new Map<string, boolean>();

  constructor(nodes: readonly GpuNode[]) {
    nodes.forEach((node, i) => {
      this.addShape(node);
      if (node.status === 'ACTIVE') this.add(viewNodeOf(node, i));
    });
  }

  private addShape(n: GpuNode): void {
    const s: NodeShape = { gpuCount: n.gpuCount, gpuMemoryGb: n.gpuMemoryGb, cpuMilli: n.cpuMilli ?? Infinity, memoryMib: n.memoryMib ?? Infinity };
    let list = this.shapes.get(n.gpuType);
    if (!list) this.shapes.set(n.gpuType, (list = []));
    if (!list.some((x) => x.gpuCount === s.gpuCount && x.gpuMemoryGb === s.gpuMemoryGb && x.cpuMilli === s.cpuMilli && x.memoryMib === s.memoryMib)) list.push(s);
  }

  private add(vn: ViewNode): void {
    const type = vn.node.gpuType;
    this.byId.set(vn.node.id, vn);
    let g = this.byType.get(type);
    if (!g) this.byType.set(type, (g = []));
    g.push(vn);
    let tf = this.freeByType.get(type);
    if (!tf) this.freeByType.set(type, (tf = { gpus: 0, milli: 0 }));
    vn.typeFree = tf;
    tf.gpus += vn.free.length;
    tf.milli += vn.freeMilli;
    this.freeMilliAll += vn.freeMilli;
  }

  /** An independent copy (same node order, same counters); cycles take a few, so it is kept cheap. */
  clone(): ClusterView {
    const c = new ClusterView([]);
    c.shapes = this.shapes;
    c.oneNodeCache = this.oneNodeCache;
    for (const [type, group] of this.byType) {
      const src = this.freeByType.get(type)!;
      const tf: TypeFree = { gpus: src.gpus, milli: src.milli };
      const copy: ViewNode[] = new Array(group.length);
      for (let i = 0; i < group.length; i++) {
        const vn = group[i];
        const v: ViewNode = { node: vn.node, free: vn.free.slice(), used: vn.used.slice(), freeMilli: vn.freeMilli, cpuFree: vn.cpuFree, memFree: vn.memFree, rev: vn.rev, typeFree: tf, order: vn.order };
        copy[i] = v;
        c.byId.set(vn.node.id, v);
      }
      c.byType.set(type, copy);
      c.freeByType.set(type, tf);
    }
    c.freeMilliAll = this.freeMilliAll;
    return c;
  }

  /** Fully free GPUs of one type. */
  totalFree(type: string): number {
    return this.freeByType.get(type)?.gpus ?? 0;
  }

  totalFreeMilli(type: string): number {
    return this.freeByType.get(type)?.milli ?? 0;
  }

  /** Free GPU milli over all types: 0 lets a cycle stop scanning for GPU tasks (none can start any more). */
  totalFreeMilliAll(): number {
    return this.freeMilliAll;
  }

  /** Could some registered node (any status: they come back) ever hold `task` whole, on its own? */
  couldEverHoldOnOneNode(task: Task): boolean {
    const key = `${anyType(task) ? '*' : task.gpuType}|${task.gpuMemoryGb}|${task.gpuCount}|${task.cpuMilli ?? 0}|${task.memoryMib ?? 0}`;
    let r = this.oneNodeCache.get(key);
    if (r === undefined) {
      r = false;
      const types = anyType(task) ? [...this.shapes.keys()] : allowedTypes(task);
      for (const type of types) {
        for (const s of this.shapes.get(type) ?? []) {
          if (s.gpuCount >= task.gpuCount && s.gpuMemoryGb >= task.gpuMemoryGb && s.cpuMilli >= (task.cpuMilli ?? 0) && s.memoryMib >= (task.memoryMib ?? 0)) r = true;
        }
      }
      this.oneNodeCache.set(key, r);
    }
    return r;
  }

  /** The gang placement that applies to `task` on this cluster (its own, or the default). */
  gangPlacementOf(task: Task): GangPlacement {
    if (task.gangPlacement) return task.gangPlacement;
    return task.gpuCount > 1 && !this.couldEverHoldOnOneNode(task) ? 'fewest-nodes' : 'single-node';
  }

  private adjust(vn: ViewNode, fullyFreeDelta: number, milliDelta: number): void {
    vn.typeFree.gpus += fullyFreeDelta;
    vn.typeFree.milli += milliDelta;
    this.freeMilliAll += milliDelta;
    vn.freeMilli += milliDelta;
    vn.rev++;
  }

  /** Take resources. Throws, before changing that node, if a GPU, CPU or memory would be over-allocated. */
  take(allocs: readonly Allocation[]): void {
    for (const a of allocs) {
      const vn = this.byId.get(a.nodeId);
      if (!vn) throw new Error(`node ${a.nodeId} is not schedulable`);
      const m = a.gpuMilli ?? MILLI_PER_GPU;
      for (const idx of a.gpuIndices) if (!(vn.used[idx] + m <= MILLI_PER_GPU)) throw new Error(`GPU ${a.nodeId}#${idx} is not free`);
      if ((a.cpuMilli ?? 0) > vn.cpuFree) throw new Error(`node ${a.nodeId} has not ${a.cpuMilli} milli CPU free`);
      if ((a.memoryMib ?? 0) > vn.memFree) throw new Error(`node ${a.nodeId} has not ${a.memoryMib} MiB free`);
      const wasFree = vn.free.length;
      for (const idx of a.gpuIndices) raise(vn, idx, vn.used[idx] + m);
      vn.cpuFree -= a.cpuMilli ?? 0;
      vn.memFree -= a.memoryMib ?? 0;
      this.adjust(vn, vn.free.length - wasFree, -m * a.gpuIndices.length);
    }
  }

  /** Return resources; `front` puts GPUs that become fully free first so the next placement prefers them. */
  release(allocs: readonly Allocation[], front = false): void {
    for (const a of allocs) {
      const vn = this.byId.get(a.nodeId);
      if (!vn) continue; // node no longer ACTIVE: its GPUs are not schedulable
      const m = a.gpuMilli ?? MILLI_PER_GPU;
      let fully = 0;
      let milli = 0;
      const freed: number[] = [];
      for (const idx of a.gpuIndices) {
        const back = Math.min(m, vn.used[idx]);
        if (back <= 0) continue; // not held (inconsistent input): never count a GPU free twice
        vn.used[idx] -= back;
        milli += back;
        if (vn.used[idx] === 0) {
          freed.push(idx);
          fully++;
        }
      }
      if (front) vn.free.unshift(...freed);
      else vn.free.push(...freed);
      if (vn.cpuFree !== Infinity) vn.cpuFree += a.cpuMilli ?? 0;
      if (vn.memFree !== Infinity) vn.memFree += a.memoryMib ?? 0;
      this.adjust(vn, fully, milli);
    }
  }

  /**
   * Make GPUs unavailable in this view (used = 1000), and take up to the given CPU/memory: used to keep
   * a head task's reserved resources away from long backfill candidates. Never throws.
   */
  withhold(a: Allocation): void {
    const vn = this.byId.get(a.nodeId);
    if (!vn) return;
    const wasFree = vn.free.length;
    let milli = 0;
    for (const idx of a.gpuIndices) if (vn.used[idx] < MILLI_PER_GPU) milli -= raise(vn, idx, MILLI_PER_GPU);
    vn.cpuFree -= Math.min(vn.cpuFree, a.cpuMilli ?? 0);
    vn.memFree -= Math.min(vn.memFree, a.memoryMib ?? 0);
    this.adjust(vn, vn.free.length - wasFree, milli);
  }

  /** Shrink this view's node `nodeId` to no more than `other` has free there (keeps a sub-view a subset). */
  shrinkTo(other: ClusterView, nodeId: string): void {
    const vn = this.byId.get(nodeId);
    const o = other.byId.get(nodeId);
    if (!vn || !o) return;
    const wasFree = vn.free.length;
    let milli = 0;
    for (let g = 0; g < vn.used.length; g++) if (o.used[g] > vn.used[g]) milli -= raise(vn, g, o.used[g]);
    vn.cpuFree = Math.min(vn.cpuFree, o.cpuFree);
    vn.memFree = Math.min(vn.memFree, o.memFree);
    this.adjust(vn, vn.free.length - wasFree, milli);
  }
}

/** Raises GPU `g`'s use to `to` milli (unlisting it from `free` if it was free); returns the milli added. */
function raise(vn: ViewNode, g: number, to: number): number {
  if (vn.used[g] === 0) vn.free.splice(vn.free.indexOf(g), 1);
  const added = to - vn.used[g];
  vn.used[g] = to;
  return added;
}

/** The resource shape a failure is remembered by; see PlacementFailureMemo. */
interface Shape {
  count: number;
  milli: number;
  cpu: number;
  mem: number;
}

/**
 * Remembers, per eligibility class (gpuType, per-GPU memory, gang placement), the requests that failed to
 * place on a view that only shrinks afterwards. A request needing at least as much of everything (GPUs,
 * milli per GPU, CPU, memory; and, split over nodes, as much per GPU) then fails too, so it can be
 * skipped without calling placeGang: same result, O(1) instead of O(nodes). Valid only while the view
 * is never released into.
 */
export class PlacementFailureMemo {
  /** gpuType ('*': any) -> per-GPU memory -> gang placement -> failed shapes. Nested maps: no key string per task. */
  private readonly failed = new Map<string, Map<number, Map<string, Shape[]>>>();

  constructor(private readonly view?: ClusterView) {}

  private list(t: Task, create: boolean): Shape[] | undefined {
    const type = anyType(t) ? '*' : t.gpuType!;
    const gang = t.gpuCount > 1 && this.view ? this.view.gangPlacementOf(t) : t.gangPlacement ?? '';
    let byMem = this.failed.get(type);
    if (!byMem) {
      if (!create) return undefined;
      this.failed.set(type, (byMem = new Map()));
    }
    let byGang = byMem.get(t.gpuMemoryGb);
    if (!byGang) {
      if (!create) return undefined;
      byMem.set(t.gpuMemoryGb, (byGang = new Map()));
    }
    let list = byGang.get(gang);
    if (!list && create) byGang.set(gang, (list = []));
    return list;
  }

  private static shape(t: Task): Shape {
    return { count: t.gpuCount, milli: t.gpuCount === 0 ? 0 : gpuMilliOf(t), cpu: t.cpuMilli ?? 0, mem: t.memoryMib ?? 0 };
  }

  /** Does needing `s` imply needing at least `f` on every node it could use? */
  private static covers(s: Shape, f: Shape): boolean {
    if (s.count < f.count || s.milli < f.milli || s.cpu < f.cpu || s.mem < f.mem) return false;
    // a gang split over nodes takes CPU/memory per GPU: compare that too when either asks for any
    if (s.count > 1 && (f.cpu > 0 || f.mem > 0)) return s.cpu * f.count >= f.cpu * s.count && s.mem * f.count >= f.mem * s.count;
    return true;
  }

  /** true when placeGang(t) on the remembered view is known to fail. */
  knownToFail(t: Task): boolean {
    const list = this.list(t, false);
    if (!list) return false;
    const s = PlacementFailureMemo.shape(t);
    return list.some((f) => PlacementFailureMemo.covers(s, f));
  }

  recordFailure(t: Task): void {
    const list = this.list(t, true)!;
    const s = PlacementFailureMemo.shape(t);
    if (list.some((f) => PlacementFailureMemo.covers(s, f))) return;
    // keep only shapes not implied by the new one; a few per class is all a queue produces
    const kept = list.filter((f) => !PlacementFailureMemo.covers(f, s));
    if (kept.length < 16) kept.push(s);
    list.length = 0;
    list.push(...kept);
  }
}

function fitsResources(vn: ViewNode, task: Task): boolean {
  return (task.cpuMilli ?? 0) <= vn.cpuFree && (task.memoryMib ?? 0) <= vn.memFree;
}

/**
 * Placement of a whole task: all its GPUs at once or nothing, never partial.
 * - CPU-only (gpuCount 0): the best-scored node with the CPU/memory.
 * - A share (gpuMilli < 1000): the best (node, GPU) pair with that much milli left on the GPU.
 * - Whole GPUs: one node when one has room (chosen by the scorer); otherwise, only when the task's gang
 *   placement (ClusterView.gangPlacementOf) is 'fewest-nodes', the fewest nodes of a single GPU type
 *   (largest free first), each taking a GPU-proportional part of the task's CPU and memory.
 */
export function placeGang(task: Task, view: ClusterView, scorer: NodeScorer = worstFit): Allocation[] | undefined {
  const need = task.gpuCount;
  const cpu = task.cpuMilli ?? 0;
  const mem = task.memoryMib ?? 0;
  const extra = (a: Allocation): Allocation => {
    if (cpu) a.cpuMilli = cpu;
    if (mem) a.memoryMib = mem;
    return a;
  };
  if (need < 0) return undefined;
  if (need === 0) {
    if (cpu === 0 && mem === 0) return undefined;
    let best: ViewNode | undefined;
    let bestScore = -Infinity;
    for (const vn of view.byId.values()) {
      if (!fitsResources(vn, task) || !nodeEligible(vn.node, task)) continue;
      const s = scorer.score(vn, task, -1);
      if (s > bestScore) {
        bestScore = s;
        best = vn;
      }
    }
    return best ? [extra({ nodeId: best.node.id, gpuIndices: [] })] : undefined;
  }
  const types = anyType(task) ? [...view.byType.keys()] : allowedTypes(task);
  const milli = gpuMilliOf(task);

  if (milli < MILLI_PER_GPU) {
    let best: ViewNode | undefined;
    let bestGpu = -1;
    let bestScore = -Infinity;
    for (const type of types) {
      if (view.totalFreeMilli(type) < milli) continue;
      for (const vn of view.byType.get(type) ?? []) {
        if (vn.freeMilli < milli || !fitsResources(vn, task) || !nodeEligible(vn.node, task)) continue;
        // one candidate per distinct fill level: GPUs with equal use score alike
        const seen: number[] = [];
        for (let g = 0; g < vn.used.length; g++) {
          const u = vn.used[g];
          if (u + milli > MILLI_PER_GPU || seen.includes(u)) continue;
          seen.push(u);
          const s = scorer.score(vn, task, g);
          if (s > bestScore) {
            bestScore = s;
            best = vn;
            bestGpu = g;
          }
        }
      }
    }
    return best ? [extra({ nodeId: best.node.id, gpuIndices: [bestGpu], gpuMilli: milli })] : undefined;
  }

  // 1) single node
  let best: ViewNode | undefined;
  let bestScore = -Infinity;
  for (const type of types) {
    if (view.totalFree(type) < need) continue;
    for (const vn of view.byType.get(type) ?? []) {
      if (vn.free.length < need || !fitsResources(vn, task) || !nodeEligible(vn.node, task)) continue;
      const s = scorer.score(vn, task, -1);
      if (s > bestScore) {
        bestScore = s;
        best = vn;
      }
    }
  }
  if (best) return [extra({ nodeId: best.node.id, gpuIndices: best.free.slice(0, need) })];
  if (need === 1 || view.gangPlacementOf(task) === 'single-node') return undefined;

  // 2) fewest nodes of one type: greedy by free count descending is optimal for the node count
  let bestMulti: Allocation[] | undefined;
  for (const type of types) {
    if (view.totalFree(type) < need) continue;
    const usable = (vn: ViewNode) => {
      let k = vn.free.length;
      if (cpu > 0) k = Math.min(k, Math.floor((vn.cpuFree * need) / cpu));
      if (mem > 0) k = Math.min(k, Math.floor((vn.memFree * need) / mem));
      return k;
    };
    const cands = (view.byType.get(type) ?? []).map((vn) => ({ vn, k: usable(vn) })).filter((c) => c.k > 0 && nodeEligible(c.vn.node, task));
    cands.sort((a, b) => b.k - a.k);
    const allocs: Allocation[] = [];
    let left = need;
    for (const { vn, k: avail } of cands) {
      if (left <= 0) break;
      const k = Math.min(left, avail);
      const a: Allocation = { nodeId: vn.node.id, gpuIndices: vn.free.slice(0, k) };
      // CPU/memory split in proportion to GPUs, rounded down, the remainder on the first node (fits: k <= usable)
      if (cpu) a.cpuMilli = Math.floor((cpu * k) / need);
      if (mem) a.memoryMib = Math.floor((mem * k) / need);
      allocs.push(a);
      left -= k;
    }
    if (left > 0) continue;
    const rest = (f: 'cpuMilli' | 'memoryMib', total: number) => {
      if (!total) return;
      const first = allocs[0];
      const r = total - allocs.reduce((s, a) => s + (a[f] ?? 0), 0);
      const vn = view.byId.get(first.nodeId)!;
      if ((first[f] ?? 0) + r <= (f === 'cpuMilli' ? vn.cpuFree : vn.memFree)) first[f] = (first[f] ?? 0) + r;
      else left = 1; // cannot seat the rounding remainder: treat this type as not fitting
    };
    rest('cpuMilli', cpu);
    rest('memoryMib', mem);
    if (left > 0) continue;
    if (!bestMulti || allocs.length < bestMulti.length) bestMulti = allocs;
  }
  return bestMulti;
}
