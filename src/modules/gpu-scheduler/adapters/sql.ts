export { exec, select } from '../../../platform/database/rows-of';
export type { Sql } from '../../../platform/database/rows-of';

/**
 * A select list that reads a table's columns as the ports speak (StoredTask, StoredNode): snake_case
 * columns under camelCase names, and the bigint `*_ms` times cast to float8 so the driver hands numbers
 * (epoch ms are exact in a double); null stays null, other bigints (version) stay strings. PostgreSQL
 * renames, so rows need no mapping pass in JS (the scheduler reads up to 10,000 queued rows a cycle).
 */
function storedColumns(columns: string[]): string {
  return columns
    .map((c) => {
      const name = c.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
      const value = c.endsWith('_ms') ? `${c}::float8` : c;
      return value === name ? c : `${value} AS "${name}"`;
    })
    .join(', ');
}

/** gpu_tasks as StoredTask, in table order. */
export const TASK_COLUMNS = storedColumns([
  'id', 'namespace', 'user_id', 'tier', 'gpu_type', 'gpu_count', 'gpu_memory_gb', 'estimated_runtime_sec', 'model', 'command',
  'on_node_failure', 'status', 'attempt', 'version', 'placement', 'accepted_nodes', 'cancel_requested', 'predicted_runtime_sec',
  'backfilled', 'queued_at_ms', 'scheduled_at_ms', 'ack_deadline_ms', 'started_at_ms', 'finished_at_ms', 'exit_code', 'reason',
  'gpu_milli', 'cpu_milli', 'memory_mib', 'gang_placement',
]);

/** gpu_nodes as StoredNode, in table order. */
export const NODE_COLUMNS = storedColumns([
  'namespace', 'id', 'gpu_type', 'gpu_count', 'gpu_memory_gb', 'labels', 'simulated', 'status', 'free_gpus', 'version',
  'gpu_utilization', 'last_heartbeat_ms', 'registered_at_ms', 'cpu_milli', 'memory_mib', 'gpu_used_milli', 'cpu_used_milli', 'memory_used_mib',
]);

/**
 * Postgres errors that mean "another transaction got in the way; nothing is wrong, try again later":
 * serialization failure, deadlock, a unique or check constraint (the allocation capacity trigger).
 */
export function isRetryableSqlError(e: unknown): boolean {
  // the SQLSTATE: TypeORM copies it onto QueryFailedError and keeps driverError
  const code = (e as { code?: string }).code ?? (e as { driverError?: { code?: string } }).driverError?.code;
  return code === '40001' || code === '40P01' || code === '23505' || code === '23514';
}
