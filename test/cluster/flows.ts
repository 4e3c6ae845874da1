/**
 * Checks of the cluster suite over what it wrote: the GPU scheduler's binding rows (no GPU held by
 * two tasks at once). The ad stream's generator is test/support/ad-scenario.ts.
 */

export const sortedEntries = <V>(m: Map<string, V>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

export interface AllocationRow {
  task_id: string;
  attempt: number;
  node_id: string;
  gpu_index: number;
  milli: number;
  bound_at_ms: string;
  released_at_ms: string | null;
}

/**
 * Sweeps every binding row in time order: per GPU, the milli held at once never passes 1000 (a
 * whole-GPU task holds 1000, so two whole tasks on one GPU at once show up here); per task, two
 * attempts never hold GPUs at the same time. Returns what was wrong, empty when nothing.
 */
export function allocationProblems(rows: AllocationRow[]): string[] {
  const problems: string[] = [];
  const events: { at: number; d: number; r: AllocationRow }[] = [];
  for (const r of rows) {
    events.push({ at: Number(r.bound_at_ms), d: +1, r });
    events.push({ at: r.released_at_ms === null ? Number.MAX_SAFE_INTEGER : Number(r.released_at_ms), d: -1, r });
  }
  // Releases before binds at the same millisecond: a GPU freed and taken in one instant is not shared.
  events.sort((a, b) => a.at - b.at || a.d - b.d);
  const milli = new Map<string, number>();
  const attemptsLive = new Map<string, Map<number, number>>();
  for (const e of events) {
    const g = `${e.r.node_id}/${e.r.gpu_index}`;
    const m = (milli.get(g) ?? 0) + e.d * e.r.milli;
    milli.set(g, m);
    if (m > 1000) problems.push(`GPU ${g} over 1000 milli at ${e.at} (task ${e.r.task_id}#${e.r.attempt})`);
    const live = attemptsLive.get(e.r.task_id) ?? new Map<number, number>();
    live.set(e.r.attempt, (live.get(e.r.attempt) ?? 0) + e.d);
    if (live.get(e.r.attempt) === 0) live.delete(e.r.attempt);
    attemptsLive.set(e.r.task_id, live);
    if (live.size > 1) problems.push(`task ${e.r.task_id} holds GPUs under attempts ${[...live.keys()].join(',')} at ${e.at}`);
  }
  return problems;
}
