import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GPU sharing (issue 12): a task may take a share of one GPU (gpu_milli 1..1000) plus CPU and memory;
 * nodes declare CPU/memory capacities. Absent values keep the old meaning (whole GPUs, CPU and
 * memory not accounted).
 *
 * Safety keeps two layers. Binding still updates each node row under its optimistic version, now
 * with the per-GPU milli held (gpu_used_milli) and CPU/memory held; CHECK constraints refuse any
 * row over 1000 milli on a GPU or over the node's CPU/memory. And gpu_allocations keeps one row per
 * GPU per attempt, now with the milli it holds: the unique index over live rows (one task per GPU)
 * becomes a statement trigger that refuses a commit putting more than 1000 live milli on one GPU —
 * still independent of the node row's bookkeeping. Binders update the node row (taking its lock)
 * before inserting allocation rows, so the trigger's read sees every committed competitor.
 */
export class GpuSharing1764810000000 implements MigrationInterface {
  name = 'GpuSharing1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE gpu_tasks
        ADD COLUMN gpu_milli      integer CHECK (gpu_milli BETWEEN 1 AND 1000),
        ADD COLUMN cpu_milli      integer CHECK (cpu_milli >= 0),
        ADD COLUMN memory_mib     integer CHECK (memory_mib >= 0),
        ADD COLUMN gang_placement text    CHECK (gang_placement IN ('single-node', 'fewest-nodes')),
        ADD CONSTRAINT gpu_tasks_share_single_gpu CHECK (gpu_milli IS NULL OR gpu_milli = 1000 OR gpu_count = 1)`);
    await q.query(`
      ALTER TABLE gpu_nodes
        ADD COLUMN cpu_milli       integer CHECK (cpu_milli >= 0),
        ADD COLUMN memory_mib      integer CHECK (memory_mib >= 0),
        ADD COLUMN gpu_used_milli  integer[],
        ADD COLUMN cpu_used_milli  integer NOT NULL DEFAULT 0 CHECK (cpu_used_milli >= 0),
        ADD COLUMN memory_used_mib integer NOT NULL DEFAULT 0 CHECK (memory_used_mib >= 0),
        ADD CONSTRAINT gpu_nodes_cpu_capacity CHECK (cpu_milli IS NULL OR cpu_used_milli <= cpu_milli),
        ADD CONSTRAINT gpu_nodes_memory_capacity CHECK (memory_mib IS NULL OR memory_used_mib <= memory_mib)`);
    await q.query(`
      UPDATE gpu_nodes SET gpu_used_milli =
        ARRAY(SELECT CASE WHEN g = ANY (free_gpus) THEN 0 ELSE 1000 END FROM generate_series(0, gpu_count - 1) AS g ORDER BY g)`);
    await q.query(`
      ALTER TABLE gpu_nodes
        ALTER COLUMN gpu_used_milli SET NOT NULL,
        ADD CONSTRAINT gpu_nodes_gpu_milli CHECK (0 <= ALL (gpu_used_milli) AND 1000 >= ALL (gpu_used_milli))`);
    // Node-level CPU/memory of an allocation ride on its lowest GPU row, so live rows sum to what a node holds.
    await q.query(`
      ALTER TABLE gpu_allocations
        ADD COLUMN milli      integer NOT NULL DEFAULT 1000 CHECK (milli BETWEEN 1 AND 1000),
        ADD COLUMN cpu_milli  integer NOT NULL DEFAULT 0,
        ADD COLUMN memory_mib integer NOT NULL DEFAULT 0`);
    await q.query(`DROP INDEX gpu_allocations_live`);
    await q.query(`CREATE INDEX gpu_allocations_live ON gpu_allocations (namespace, node_id, gpu_index) WHERE released_at_ms IS NULL`);
    await q.query(`
      CREATE FUNCTION gpu_allocations_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (
          SELECT 1 FROM gpu_allocations a
            JOIN (SELECT DISTINCT namespace, node_id, gpu_index FROM inserted) i
              ON i.namespace = a.namespace AND i.node_id = a.node_id AND i.gpu_index = a.gpu_index
           WHERE a.released_at_ms IS NULL
           GROUP BY a.namespace, a.node_id, a.gpu_index
          HAVING sum(a.milli) > 1000
        ) THEN
          RAISE EXCEPTION 'a GPU would hold more than 1000 milli' USING ERRCODE = '23514';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER gpu_allocations_capacity AFTER INSERT ON gpu_allocations
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION gpu_allocations_capacity()`);
    // GPU time of a share is fractional (0.25 GPU for 250 milli).
    await q.query(`ALTER TABLE gpu_usage ALTER COLUMN gpu_count TYPE real`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE gpu_usage ALTER COLUMN gpu_count TYPE integer USING ceil(gpu_count)::integer`);
    await q.query(`DROP TRIGGER gpu_allocations_capacity ON gpu_allocations`);
    await q.query(`DROP FUNCTION gpu_allocations_capacity()`);
    await q.query(`DROP INDEX gpu_allocations_live`);
    await q.query(`CREATE UNIQUE INDEX gpu_allocations_live ON gpu_allocations (namespace, node_id, gpu_index) WHERE released_at_ms IS NULL`);
    await q.query(`ALTER TABLE gpu_allocations DROP COLUMN milli, DROP COLUMN cpu_milli, DROP COLUMN memory_mib`);
    await q.query(`
      ALTER TABLE gpu_nodes DROP CONSTRAINT gpu_nodes_gpu_milli, DROP CONSTRAINT gpu_nodes_cpu_capacity, DROP CONSTRAINT gpu_nodes_memory_capacity,
        DROP COLUMN cpu_milli, DROP COLUMN memory_mib, DROP COLUMN gpu_used_milli, DROP COLUMN cpu_used_milli, DROP COLUMN memory_used_mib`);
    await q.query(`
      ALTER TABLE gpu_tasks DROP CONSTRAINT gpu_tasks_share_single_gpu,
        DROP COLUMN gpu_milli, DROP COLUMN cpu_milli, DROP COLUMN memory_mib, DROP COLUMN gang_placement`);
  }
}
