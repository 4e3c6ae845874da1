import { select, Sql } from './sql';

interface ReleasedRow {
  node_id: string;
  gpu_index: number;
  milli: number;
  cpu_milli: number;
  memory_mib: number;
}

/**
 * Releases the live GPU rows of one binding attempt (optionally only on one node) and gives their
 * milli, CPU and memory back to their nodes, in the caller's transaction. Each node update is a
 * single read-modify-write statement under the row lock and bumps the node version, so a binder
 * holding the old version conflicts instead of overwriting it. A GPU is free again when nothing
 * holds any share of it. Returns whether anything was still held.
 */
export async function releaseAllocations(
  tx: Sql,
  ns: string,
  taskId: string,
  attempt: number,
  nowMs: number,
  onlyNode?: string,
): Promise<boolean> {
  const rows = await select<ReleasedRow>(
    tx,
    `UPDATE gpu_allocations SET released_at_ms = $3
      WHERE task_id = $1 AND attempt = $2 AND released_at_ms IS NULL AND ($4::text IS NULL OR node_id = $4)
      RETURNING node_id, gpu_index, milli, cpu_milli, memory_mib`,
    [taskId, attempt, nowMs, onlyNode ?? null],
  );
  const byNode = new Map<string, ReleasedRow[]>();
  for (const r of rows) {
    let l = byNode.get(r.node_id);
    if (!l) byNode.set(r.node_id, (l = []));
    l.push(r);
  }
  for (const [nodeId, gpus] of [...byNode.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const cpu = gpus.reduce((s, g) => s + g.cpu_milli, 0);
    const mem = gpus.reduce((s, g) => s + g.memory_mib, 0);
    // Computed from the row's own columns (not a CTE over gpu_nodes), so a concurrent update that
    // commits before this one takes the lock is re-read (EvalPlanQual) rather than overwritten.
    const left = `u - coalesce((SELECT sum(m) FROM unnest($3::int[], $4::int[]) AS r(g, m) WHERE r.g = i - 1), 0)`;
    await tx.query(
      `UPDATE gpu_nodes SET
              gpu_used_milli = ARRAY(SELECT greatest(0, ${left})::int FROM unnest(gpu_used_milli) WITH ORDINALITY AS t(u, i) ORDER BY i),
              free_gpus = ARRAY(SELECT (i - 1)::int FROM unnest(gpu_used_milli) WITH ORDINALITY AS t(u, i) WHERE ${left} <= 0 ORDER BY i),
              cpu_used_milli = greatest(0, cpu_used_milli - $5), memory_used_mib = greatest(0, memory_used_mib - $6),
              version = version + 1
        WHERE namespace = $1 AND id = $2`,
      [ns, nodeId, gpus.map((g) => g.gpu_index), gpus.map((g) => g.milli), cpu, mem],
    );
  }
  return rows.length > 0;
}
