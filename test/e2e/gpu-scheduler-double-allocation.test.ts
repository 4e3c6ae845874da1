import { DataSource } from 'typeorm';
import { AgentReport, DISPATCH_JOB } from '../../src/modules/gpu-scheduler';
import { Binder } from '../../src/modules/gpu-scheduler/ports/binder.port';
import { NODE_COLUMNS, select } from '../../src/modules/gpu-scheduler/adapters/sql';
import { snapshotOf, StoredNode } from '../../src/modules/gpu-scheduler/ports/gpu-rows';
import { ScriptedAgent } from '../support/gpu-scripted-agent';
import { JobQueue } from '../../src/platform/queue/job-queue.port';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NODES = 16;
const TASKS = 400;

/**
 * The acceptance test for atomic binding: two complete applications (two SchedulerService
 * instances, each with its own scheduling loop, the leader lease turned off so both are active at
 * once) share one PostgreSQL, one Redis and one namespace, and schedule 400 tasks of 1-12 GPUs (gangs
 * across nodes included) onto 16 x 8 GPUs while tasks keep finishing and one app's dispatches fail
 * now and then. Afterwards every binding row ever written is checked: no GPU index was held by two
 * tasks at overlapping times, every task ran exactly once to success, and every GPU is free again.
 */
describe('gpu-scheduler: two active schedulers never double-allocate a GPU (full profile)', () => {
  let a: TestApp;
  let b: TestApp;
  let agent: ScriptedAgent;
  let ds: DataSource;
  const ns = `t-dbl-${Date.now().toString(36)}`;
  const env = {
    APP_PROFILE: 'full',
    APP_MODULES: 'gpu-scheduler',
    APP_ROLES: 'api,worker,scheduler',
    NAMESPACE: ns,
    RATE_LIMIT_PER_SECOND: '0',
    GPU_LEADER_LEASE: 'off',
    GPU_CYCLE_INTERVAL_MS: '50',
    GPU_ACK_TIMEOUT_MS: '20000',
    GPU_HEARTBEAT_TIMEOUT_MS: '60000',
  };
  const apps = () => [a, b];
  const pick = (i: number) => apps()[i % 2];

  beforeAll(async () => {
    a = await startTestApp(env);
    b = await startTestApp(env);
    ds = a.app.get(DataSource);
    let n = 0;
    agent = new ScriptedAgent(
      a.app.get(JobQueue),
      {
        report: async (taskId: string, body: AgentReport) => {
          const r = await http(pick(n++).url, 'POST', `/api/v1/gpu/tasks/${taskId}/report`, { key: KEYS.service, body });
          if (r.status !== 200) throw new Error(`report ${r.status} ${JSON.stringify(r.body)}`);
        },
        heartbeat: async (nodeId: string, body: unknown) => {
          await http(pick(n++).url, 'POST', `/api/v1/gpu/nodes/${nodeId}/heartbeat`, { key: KEYS.service, body });
        },
      },
      1000,
    );
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  /**
   * Submits TASKS tasks (half to each app) while both schedulers run, tasks finishing 20-120 ms after
   * they start, and every 7th dispatch of app B failing as a Redis outage would; waits until all
   * SUCCEEDED. Returns how many dispatch failures were injected.
   */
  async function runLoad(body: (i: number) => Record<string, unknown>, tag: string): Promise<{ injected: number }> {
    const qb = b.app.get(JobQueue);
    const realAdd = qb.add.bind(qb);
    let dispatchCalls = 0;
    let injected = 0;
    const spy = jest.spyOn(qb, 'add').mockImplementation(async (q, name, data, opts) => {
      if (name === DISPATCH_JOB && ++dispatchCalls % 7 === 0) {
        injected++;
        throw new Error('injected dispatch failure');
      }
      return realAdd(q, name, data, opts);
    });
    const startedAt = new Map<string, number>();
    let finishing = true;
    const finisher = (async () => {
      while (finishing) {
        const now = Date.now();
        for (const id of [...agent.running.keys()]) {
          if (!startedAt.has(id)) startedAt.set(id, now + 20 + Math.floor(Math.random() * 100));
          else if (startedAt.get(id)! <= now) {
            startedAt.delete(id);
            void agent.finish(id);
          }
        }
        await sleep(10);
      }
    })();
    try {
      const before: number = (await ds.query(`SELECT count(*)::int AS n FROM gpu_tasks WHERE namespace = $1 AND status = 'SUCCEEDED'`, [ns]))[0].n;
      const submits: Promise<{ status: number; body: { taskId: string } }>[] = [];
      for (let i = 0; i < TASKS; i++) {
        submits.push(http(pick(i).url, 'POST', '/api/v1/tasks', { key: KEYS.client, headers: { 'idempotency-key': `${ns}-${tag}-${i}` }, body: body(i) }));
        if (i % 50 === 49) await sleep(20);
      }
      for (const r of await Promise.all(submits)) expect(r).toMatchObject({ status: 202 });
      // Wait until every task has SUCCEEDED (polling the database, the source of truth).
      for (let i = 0; i < 600; i++) {
        const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM gpu_tasks WHERE namespace = $1 AND status = 'SUCCEEDED'`, [ns]);
        if (n === before + TASKS) break;
        await sleep(100);
      }
    } finally {
      finishing = false;
      await finisher;
      spy.mockRestore();
    }
    return { injected };
  }

  it('binds 400 tasks from two schedulers with no GPU ever allocated twice, and rolls back failed dispatches', async () => {
    for (let i = 0; i < NODES; i++) {
      const id = `dn-${i}`;
      const r = await http(pick(i).url, 'POST', '/api/v1/gpu/nodes', {
        key: KEYS.service,
        body: { id, gpuType: i % 4 === 3 ? 'H100' : 'A100', gpuCount: 8, gpuMemoryGb: 80 },
      });
      expect(r.status).toBe(200);
      agent.attach(id);
    }

    const sizes = [1, 1, 1, 2, 2, 4, 8, 12];
    const { injected } = await runLoad((i) => ({
      userId: `u${i % 13}`,
      tier: i % 3 === 0 ? 'vip' : 'normal',
      gpuType: i % 5 === 4 ? 'H100' : 'A100',
      gpuCount: sizes[i % sizes.length],
      gpuMemoryGb: 40,
      estimatedRuntimeSec: 60,
      model: `m${i % 4}`,
    }), 'whole');
    const ids = (await ds.query(`SELECT id FROM gpu_tasks WHERE namespace = $1`, [ns])).map((r: { id: string }) => r.id);

    const statuses = await ds.query(`SELECT status, count(*)::int AS n FROM gpu_tasks WHERE namespace = $1 GROUP BY status`, [ns]);
    expect(statuses).toEqual([{ status: 'SUCCEEDED', n: TASKS }]);

    // 1. Every binding row: per (node, GPU index), the intervals [bound, released) never overlap.
    const rows: { task_id: string; attempt: number; node_id: string; gpu_index: number; bound_at_ms: string; released_at_ms: string | null }[] =
      await ds.query(
        `SELECT task_id, attempt, node_id, gpu_index, bound_at_ms, released_at_ms FROM gpu_allocations WHERE namespace = $1
          ORDER BY node_id, gpu_index, bound_at_ms, released_at_ms`,
        [ns],
      );
    expect(rows.length).toBeGreaterThanOrEqual(ids.length);
    const byGpu = new Map<string, typeof rows>();
    for (const r of rows) {
      const k = `${r.node_id}/${r.gpu_index}`;
      if (!byGpu.has(k)) byGpu.set(k, []);
      byGpu.get(k)!.push(r);
    }
    const overlaps: string[] = [];
    for (const [k, list] of byGpu) {
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1];
        const cur = list[i];
        if (prev.released_at_ms === null || Number(cur.bound_at_ms) < Number(prev.released_at_ms)) {
          overlaps.push(`${k}: ${prev.task_id}#${prev.attempt} and ${cur.task_id}#${cur.attempt}`);
        }
      }
    }
    expect(overlaps).toEqual([]);
    expect(rows.every((r) => r.released_at_ms !== null)).toBe(true);

    // 2. Each task's final placement is exactly its last attempt's binding rows, on one GPU type, gangs whole.
    const tasks: { id: string; attempt: number; gpu_count: number; gpu_type: string; placement: { nodeId: string; gpuIndices: number[] }[] }[] =
      await ds.query(`SELECT id, attempt, gpu_count, gpu_type, placement FROM gpu_tasks WHERE namespace = $1`, [ns]);
    const bound = new Map<string, string[]>();
    for (const r of rows) {
      const k = `${r.task_id}#${r.attempt}`;
      if (!bound.has(k)) bound.set(k, []);
      bound.get(k)!.push(`${r.node_id}/${r.gpu_index}`);
    }
    for (const t of tasks) {
      const placed = t.placement.flatMap((p) => p.gpuIndices.map((g) => `${p.nodeId}/${g}`)).sort();
      expect(placed).toHaveLength(t.gpu_count);
      expect(bound.get(`${t.id}#${t.attempt}`)!.sort()).toEqual(placed);
      const typeOf = (nodeId: string) => (Number(nodeId.slice(3)) % 4 === 3 ? 'H100' : 'A100');
      expect(t.placement.every((p) => typeOf(p.nodeId) === t.gpu_type)).toBe(true);
    }

    // 3. Failed dispatches were rolled back and retried as new attempts.
    expect(injected).toBeGreaterThan(0);
    const retried = tasks.filter((t) => t.attempt > 1).length;
    expect(retried).toBeGreaterThanOrEqual(1);

    // 4. Both schedulers really bound tasks (neither sat idle), and every GPU is back in the pool.
    const metric = async (t: TestApp, outcome: string) => {
      const text = (await http(t.url, 'GET', '/metrics')).body as string;
      const m = new RegExp(`gpu_scheduler_decisions_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const boundA = await metric(a, 'bound');
    const boundB = await metric(b, 'bound');
    expect(boundA).toBeGreaterThan(0);
    expect(boundB).toBeGreaterThan(0);
    expect(boundA + boundB).toBe(rows.length === 0 ? 0 : new Set(rows.map((r) => `${r.task_id}#${r.attempt}`)).size);
    const conflicts = (await metric(a, 'conflict')) + (await metric(b, 'conflict'));
    const skipped = (await metric(a, 'skipped_stale')) + (await metric(b, 'skipped_stale'));
    // eslint-disable-next-line no-console
    console.info(`double-allocation: bound A=${boundA} B=${boundB}, conflicts=${conflicts} (then ${skipped} skipped on stale nodes), injected dispatch failures=${injected}, retried tasks=${retried}`);
    const nodes: { free_gpus: number[] }[] = await ds.query(`SELECT free_gpus FROM gpu_nodes WHERE namespace = $1`, [ns]);
    expect(nodes.every((n) => n.free_gpus.length === 8)).toBe(true);
    expect(agent.errors).toEqual([]);
  }, 120_000);
  it('shares of GPUs from two schedulers: never more than 1000 milli on a GPU, nor over a node\'s CPU or memory', async () => {
    const FN = 8;
    const CPU = 16_000;
    const MEM = 65_536;
    for (let i = 0; i < FN; i++) {
      const id = `fn-${i}`;
      const r = await http(pick(i).url, 'POST', '/api/v1/gpu/nodes', {
        key: KEYS.service,
        body: { id, gpuType: 'L4', gpuCount: 4, gpuMemoryGb: 24, cpuMilli: CPU, memoryMib: MEM },
      });
      expect(r.status).toBe(200);
      agent.attach(id);
    }
    const shares = [250, 300, 500, 750, 100, 1000];
    const { injected } = await runLoad(
      (i) => ({
        userId: `f${i % 7}`,
        tier: i % 3 === 0 ? 'vip' : 'normal',
        gpuType: 'L4',
        gpuCount: i % 9 === 8 ? 2 : 1,
        ...(i % 9 === 8 ? {} : { gpuMilli: shares[i % shares.length] }),
        cpuMilli: 1000 * (1 + (i % 4)),
        memoryMib: 4096 * (1 + (i % 3)),
        gpuMemoryGb: 8,
        estimatedRuntimeSec: 60,
      }),
      'share',
    );
    expect(injected).toBeGreaterThan(0);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM gpu_tasks WHERE namespace = $1 AND gpu_type = 'L4' AND status = 'SUCCEEDED'`, [ns]);
    expect(n).toBe(TASKS);

    // Sweep every binding row of the L4 nodes in time order: live milli per GPU, CPU and memory per node.
    const rows: { node_id: string; gpu_index: number; milli: number; cpu_milli: number; memory_mib: number; bound_at_ms: string; released_at_ms: string | null }[] =
      await ds.query(`SELECT node_id, gpu_index, milli, cpu_milli, memory_mib, bound_at_ms, released_at_ms FROM gpu_allocations WHERE namespace = $1 AND node_id LIKE 'fn-%'`, [ns]);
    expect(rows.every((r) => r.released_at_ms !== null)).toBe(true);
    expect(rows.some((r) => r.milli < 1000)).toBe(true);
    const events = rows.flatMap((r) => [
      { at: Number(r.bound_at_ms), d: 1, r },
      { at: Number(r.released_at_ms), d: -1, r },
    ]);
    events.sort((x, y) => x.at - y.at || x.d - y.d); // a release at the same ms as a bind goes first
    const milli = new Map<string, number>();
    const cpu = new Map<string, number>();
    const mem = new Map<string, number>();
    const over: string[] = [];
    let sharedAtOnce = 0;
    for (const { d, r } of events) {
      const g = `${r.node_id}/${r.gpu_index}`;
      milli.set(g, (milli.get(g) ?? 0) + d * r.milli);
      cpu.set(r.node_id, (cpu.get(r.node_id) ?? 0) + d * r.cpu_milli);
      mem.set(r.node_id, (mem.get(r.node_id) ?? 0) + d * r.memory_mib);
      if (milli.get(g)! > 1000) over.push(`${g}: ${milli.get(g)} milli`);
      if (cpu.get(r.node_id)! > CPU) over.push(`${r.node_id}: ${cpu.get(r.node_id)} milli CPU`);
      if (mem.get(r.node_id)! > MEM) over.push(`${r.node_id}: ${mem.get(r.node_id)} MiB`);
      if (d > 0 && r.milli < 1000 && milli.get(g)! > r.milli) sharedAtOnce++;
    }
    expect(over).toEqual([]);
    expect(sharedAtOnce).toBeGreaterThan(0); // GPUs really were shared
    // Everything went back: no milli, CPU or memory held on any node.
    const nodes: { free_gpus: number[]; gpu_used_milli: number[]; cpu_used_milli: number; memory_used_mib: number }[] = await ds.query(
      `SELECT free_gpus, gpu_used_milli, cpu_used_milli, memory_used_mib FROM gpu_nodes WHERE namespace = $1 AND id LIKE 'fn-%'`,
      [ns],
    );
    expect(nodes).toEqual(Array(FN).fill({ free_gpus: [0, 1, 2, 3], gpu_used_milli: [0, 0, 0, 0], cpu_used_milli: 0, memory_used_mib: 0 }));
    expect(agent.errors).toEqual([]);
  }, 120_000);

  it('the version guard alone decides races: two binders on one node snapshot, one wins, even on disjoint GPUs', async () => {
    // A namespace no scheduler loop serves, so only these direct bindBatch calls touch it.
    const race = `${ns}-race`;
    const now = Date.now();
    await ds.query(
      `INSERT INTO gpu_nodes (namespace, id, gpu_type, gpu_count, gpu_memory_gb, status, free_gpus, gpu_used_milli, last_heartbeat_ms, registered_at_ms)
       VALUES ($1, 'r-1', 'A100', 8, 80, 'ACTIVE', '{0,1,2,3,4,5,6,7}', '{0,0,0,0,0,0,0,0}', $2, $2)`,
      [race, now],
    );
    let wins = 0;
    let conflicts = 0;
    for (let round = 0; round < 20; round++) {
      const [node] = await select<StoredNode>(ds, `SELECT ${NODE_COLUMNS} FROM gpu_nodes WHERE namespace = $1 AND id = 'r-1'`, [race]);
      if (node.freeGpus.length < 2) {
        await ds.query(`UPDATE gpu_allocations SET released_at_ms = $2 WHERE namespace = $1 AND released_at_ms IS NULL`, [race, Date.now()]);
        await ds.query(`UPDATE gpu_nodes SET free_gpus = '{0,1,2,3,4,5,6,7}', gpu_used_milli = '{0,0,0,0,0,0,0,0}', version = version + 1 WHERE namespace = $1`, [race]);
        continue;
      }
      const snap = new Map([['r-1', snapshotOf(node)]]);
      const ids = [`${race}-${round}-a`, `${race}-${round}-b`];
      for (const id of ids) {
        await ds.query(
          `INSERT INTO gpu_tasks (id, namespace, user_id, tier, gpu_type, gpu_count, gpu_memory_gb, status, queued_at_ms) VALUES ($1, $2, 'u', 'vip', 'A100', 1, 1, 'QUEUED', $3)`,
          [id, race, now],
        );
      }
      // Different GPUs on the same node, bound concurrently through both apps' pools: the partial
      // unique index has nothing to object to, so only the node version can stop the second one.
      const [g1, g2] = node.freeGpus;
      const outcomes = await Promise.all(
        ids.map((taskId, k) =>
          apps()[k].app.get(Binder).bindBatch(
            { ns: race, nowMs: Date.now(), ackDeadlineMs: Date.now() + 1000 },
            [{ taskId, taskVersion: '0', attempt: 1, allocations: [{ nodeId: 'r-1', gpuIndices: [k === 0 ? g1 : g2] }], predictedRuntimeSec: 1, backfilled: false }],
            snap,
            [],
          ),
        ),
      );
      const ok = outcomes.filter((o) => o.ok).length;
      expect(ok).toBe(1);
      wins += ok;
      conflicts += outcomes.length - ok;
      const loser = outcomes.findIndex((o) => !o.ok);
      expect(outcomes[loser]).toMatchObject({ ok: false, conflict: 'node r-1', staleNodes: ['r-1'] });
      // the loser changed nothing: still QUEUED at version 0, no allocation rows
      const [t] = await ds.query(`SELECT status, version FROM gpu_tasks WHERE id = $1`, [ids[loser]]);
      expect(t).toEqual({ status: 'QUEUED', version: '0' });
      expect(await ds.query(`SELECT 1 FROM gpu_allocations WHERE task_id = $1`, [ids[loser]])).toHaveLength(0);
    }
    expect(wins).toBeGreaterThan(10);
    expect(conflicts).toBe(wins);
    const [n] = await ds.query(`SELECT free_gpus FROM gpu_nodes WHERE namespace = $1`, [race]);
    const [{ live }] = await ds.query(`SELECT count(*)::int AS live FROM gpu_allocations WHERE namespace = $1 AND released_at_ms IS NULL`, [race]);
    expect(n.free_gpus.length + live).toBe(8);
  }, 60_000);
});
