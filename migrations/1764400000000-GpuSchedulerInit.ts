import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GPU scheduler tables. Every row carries the app NAMESPACE, so tenants (and test apps sharing one
 * database) never schedule each other's tasks onto each other's nodes.
 *
 * Allocation safety has two layers: binding changes a task (QUEUED → SCHEDULED) and every node it
 * uses (free_gpus, version) in one transaction guarded by optimistic versions; and each allocated
 * GPU is a row in gpu_allocations with a partial unique index over the live ones, so even a bug in
 * the first layer could not commit one GPU to two tasks.
 */
export class GpuSchedulerInit1764400000000 implements MigrationInterface {
  name = 'GpuSchedulerInit1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gpu_nodes (
        namespace         text     NOT NULL,
        id                text     NOT NULL,
        gpu_type          text     NOT NULL,
        gpu_count         integer  NOT NULL CHECK (gpu_count BETWEEN 1 AND 1024),
        gpu_memory_gb     real     NOT NULL CHECK (gpu_memory_gb >= 0),
        labels            jsonb    NOT NULL DEFAULT '{}',
        simulated         boolean  NOT NULL DEFAULT false,
        status            text     NOT NULL CHECK (status IN ('ACTIVE', 'DRAINING', 'MAINTENANCE', 'UNHEALTHY')),
        free_gpus         integer[] NOT NULL,
        version           bigint   NOT NULL DEFAULT 0,
        gpu_utilization   jsonb,
        last_heartbeat_ms bigint   NOT NULL,
        registered_at_ms  bigint   NOT NULL,
        PRIMARY KEY (namespace, id)
      )`);
    await q.query(`
      CREATE TABLE gpu_tasks (
        id                    text     PRIMARY KEY,
        namespace             text     NOT NULL,
        user_id               text     NOT NULL,
        tier                  text     NOT NULL CHECK (tier IN ('vip', 'normal')),
        gpu_type              text     NOT NULL,
        gpu_count             integer  NOT NULL CHECK (gpu_count BETWEEN 1 AND 64),
        gpu_memory_gb         real     NOT NULL CHECK (gpu_memory_gb >= 0),
        estimated_runtime_sec integer,
        model                 text,
        command               text,
        on_node_failure       text     NOT NULL DEFAULT 'fail' CHECK (on_node_failure IN ('fail', 'requeue')),
        status                text     NOT NULL CHECK (status IN ('QUEUED', 'SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        attempt               integer  NOT NULL DEFAULT 0,
        version               bigint   NOT NULL DEFAULT 0,
        placement             jsonb,
        accepted_nodes        text[]   NOT NULL DEFAULT '{}',
        cancel_requested      boolean  NOT NULL DEFAULT false,
        predicted_runtime_sec real,
        backfilled            boolean  NOT NULL DEFAULT false,
        queued_at_ms          bigint   NOT NULL,
        scheduled_at_ms       bigint,
        ack_deadline_ms       bigint,
        started_at_ms         bigint,
        finished_at_ms        bigint,
        exit_code             integer,
        reason                text
      )`);
    await q.query(`CREATE INDEX gpu_tasks_queue ON gpu_tasks (namespace, queued_at_ms) WHERE status = 'QUEUED'`);
    await q.query(`CREATE INDEX gpu_tasks_live ON gpu_tasks (namespace, status) WHERE status IN ('SCHEDULED', 'RUNNING')`);
    await q.query(`CREATE INDEX gpu_tasks_list ON gpu_tasks (namespace, id)`);
    await q.query(`CREATE INDEX gpu_tasks_user ON gpu_tasks (namespace, user_id, id)`);
    // One row per GPU per binding attempt; released_at_ms is set when the GPU goes back to the pool.
    await q.query(`
      CREATE TABLE gpu_allocations (
        namespace      text    NOT NULL,
        task_id        text    NOT NULL REFERENCES gpu_tasks (id),
        attempt        integer NOT NULL,
        node_id        text    NOT NULL,
        gpu_index      integer NOT NULL,
        bound_at_ms    bigint  NOT NULL,
        released_at_ms bigint,
        PRIMARY KEY (task_id, attempt, node_id, gpu_index)
      )`);
    await q.query(`CREATE UNIQUE INDEX gpu_allocations_live ON gpu_allocations (namespace, node_id, gpu_index) WHERE released_at_ms IS NULL`);
    // Agent reports seen, per node: makes reports idempotent and lets a gang wait for every node.
    await q.query(`
      CREATE TABLE gpu_task_reports (
        task_id     text    NOT NULL,
        attempt     integer NOT NULL,
        node_id     text    NOT NULL,
        event       text    NOT NULL,
        at_ms       bigint  NOT NULL,
        PRIMARY KEY (task_id, attempt, node_id, event)
      )`);
    // Finished runtimes feed the predictor (median per model + gpuCount); predicted_sec feeds its error metric.
    await q.query(`
      CREATE TABLE gpu_runtime_history (
        seq            bigserial PRIMARY KEY,
        namespace      text    NOT NULL,
        model          text,
        gpu_count      integer NOT NULL,
        runtime_sec    real    NOT NULL,
        predicted_sec  real,
        finished_at_ms bigint  NOT NULL
      )`);
    await q.query(`CREATE INDEX gpu_runtime_history_ns ON gpu_runtime_history (namespace, seq)`);
    // GPU time consumed by finished tasks, for the quota window (running tasks are counted live).
    await q.query(`
      CREATE TABLE gpu_usage (
        namespace text    NOT NULL,
        task_id   text    NOT NULL,
        attempt   integer NOT NULL,
        tier      text    NOT NULL,
        gpu_count integer NOT NULL,
        start_ms  bigint  NOT NULL,
        end_ms    bigint  NOT NULL,
        PRIMARY KEY (task_id, attempt)
      )`);
    await q.query(`CREATE INDEX gpu_usage_window ON gpu_usage (namespace, end_ms)`);
    // Leader lease: one active scheduler per namespace.
    await q.query(`
      CREATE TABLE gpu_scheduler_lease (
        namespace     text   PRIMARY KEY,
        holder        text   NOT NULL,
        expires_at_ms bigint NOT NULL
      )`);
    // Transactional outbox for gpu.tasks: written with the state change, relayed to the log after.
    await q.query(`
      CREATE TABLE gpu_outbox (
        seq       bigserial PRIMARY KEY,
        namespace text   NOT NULL,
        key       text   NOT NULL,
        value     text   NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['gpu_outbox', 'gpu_scheduler_lease', 'gpu_usage', 'gpu_runtime_history', 'gpu_task_reports', 'gpu_allocations', 'gpu_tasks', 'gpu_nodes']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
