import type { Allocation } from '../domain';
import { select, Sql } from './sql';

/**
 * Releases the live GPU rows of one binding attempt (optionally only on one node) and puts the
 * indices back into their nodes' free lists, in the caller's transaction. The free-list update is
 * a single read-modify-write statement under the row lock and bumps the node version, so a binder
 * holding the old version conflicts instead of overwriting it.
 */
export async function releaseAllocations(
  tx: Sql,
  ns: string,
  taskId: string,
  attempt: number,
  nowMs: number,
  onlyNode?: string,
): Promise<Allocation[]> {
  const rows = await select<{ node_id: string; gpu_index: number }>(
    tx,
    `UPDATE gpu_allocations SET released_at_ms = $3
      WHERE task_id = $1 AND attempt = $2 AND released_at_ms IS NULL AND ($4::text IS NULL OR node_id = $4)
      RETURNING node_id, gpu_index`,
    [taskId, attempt, nowMs, onlyNode ?? null],
  );
  const byNode = new Map<string, number[]>();
  for (const r of rows) {
    let l = byNode.get(r.node_id);
    if (!l) byNode.set(r.node_id, (l = []));
    l.push(r.gpu_index);
  }
  const released: Allocation[] = [];
  for (const [nodeId, gpus] of [...byNode.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await tx.query(
      `UPDATE gpu_nodes SET free_gpus = ARRAY(SELECT DISTINCT g FROM unnest(free_gpus || $3::int[]) AS g ORDER BY g),
              version = version + 1
        WHERE namespace = $1 AND id = $2`,
      [ns, nodeId, gpus],
    );
    released.push({ nodeId, gpuIndices: gpus.sort((a, b) => a - b) });
  }
  return released;
}
