import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { Clock } from '../../../platform/clock/clock';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { DISPATCH_JOB, DispatchMessage, nodeQueueName } from '../agent-protocol';
import { Allocation, bestFit, Decision, HeadSlipTracker, windowUsage, RunningTask, RuntimePredictor, scheduleCycle, Task, worstFit } from '../domain';
import { Binder, BindOutcome, BindRequest, NodeSnapshot } from '../ports/binder.port';
import { placementOf, snapshotOf, StoredTask, toDomainNode, toDomainTask } from '../ports/gpu-rows';
import { NodeStore } from '../ports/node-store.port';
import { Outbox } from '../../../platform/outbox/outbox';
import { TaskStore } from '../ports/task-store.port';
import { TaskLifecycle } from './task-lifecycle.service';

/** Queue rows loaded per cycle (oldest first); the core's benchmark size. */
const MAX_QUEUE = 10_000;

/** What the binding bench reads; the outcomes are counted in gpu_scheduler_decisions_total. */
export interface CycleReport {
  bound: number;
  /** Lost a version race at commit (another writer moved first). */
  conflicts: number;
  /** Wall time of binding and dispatching this cycle's decisions (ms); 0 when there were none. */
  bindMs: number;
}

/**
 * One scheduling pass over PostgreSQL: load queue + nodes + running tasks + the quota window's
 * usage, run the pure `scheduleCycle`, bind each decision atomically (see binder.ts), then put a
 * DISPATCH job on each node's queue. A dispatch that cannot be queued is rolled back at once; one
 * that is not ACCEPTED by its deadline is rolled back by `expireUnacknowledged`.
 * Safe to run in several processes at once: a decision that lost a race only costs a conflict.
 */
@Injectable()
export class SchedulerService {
  private readonly log = new Logger('gpu-scheduler');
  readonly predictor: RuntimePredictor;
  private historySeq = '0';
  private readonly cycleSeconds: Histogram;
  private readonly decisionsTotal: Counter<'outcome'>;
  private readonly predictorError: Gauge<'stat'>;
  private readonly quotaShare: Gauge<'tier'>;
  private readonly headSlip: Histogram;
  private readonly oldestWait: Gauge<'tier'>;
  private readonly slips = new HeadSlipTracker();

  constructor(
    private readonly tasks: TaskStore,
    private readonly nodes: NodeStore,
    private readonly binder: Binder,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly config: GpuSchedulerConfig,
    private readonly lifecycle: TaskLifecycle,
    private readonly outbox: Outbox,
    metrics: MetricsRegistry,
  ) {
    this.predictor = new RuntimePredictor({ defaultRuntimeSec: config.GPU_DEFAULT_RUNTIME_SEC });
    const registers = [metrics.registry];
    const [outcome, tier, stat] = [['outcome'], ['tier'], ['stat']] as const;
    this.cycleSeconds = new Histogram({ name: 'gpu_scheduler_cycle_seconds', help: 'One scheduling cycle: load, decide, bind, dispatch', registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    this.decisionsTotal = new Counter({ name: 'gpu_scheduler_decisions_total', labelNames: outcome, registers,
      help: 'Scheduling decisions by outcome (bound, conflict, skipped_stale, dispatch_failed, ack_timeout)' });
    this.quotaShare = new Gauge({ name: 'gpu_quota_window_share', labelNames: tier, registers,
      help: 'Share of the GPU time used in the quota window (finished and running work, GPU shares counted fractionally) per tier; compare vip with GPU_VIP_SHARE' });
    this.headSlip = new Histogram({ name: 'gpu_scheduler_head_slip_seconds', registers, buckets: [0, 1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 48 * 3600],
      help: 'Blocked head task: actual start minus the start its first backfill reservation promised (0 when on time or early)' });
    this.oldestWait = new Gauge({ name: 'gpu_scheduler_queue_oldest_wait_seconds', labelNames: tier, registers,
      help: 'How long the oldest queued task of each tier has waited, as of the last cycle (0: none queued)' });
    this.predictorError = new Gauge({ name: 'gpu_runtime_prediction_error', labelNames: stat, registers,
      help: 'Runtime predictor error over finished tasks: mae_seconds, mape, under_predicted_fraction, samples' });
  }

  /** Feeds runtimes finished since the last call (by any process) into the predictor. */
  async refreshPredictor(): Promise<void> {
    for (;;) {
      const rows = await this.tasks.runtimesSince(this.historySeq, 5000);
      for (const r of rows) {
        const task = { model: r.model ?? undefined, gpuCount: r.gpuCount } as Task;
        this.predictor.observe(task, r.runtimeSec, r.predictedSec ?? undefined);
        this.historySeq = r.seq;
      }
      if (rows.length < 5000) break;
    }
    const s = this.predictor.errorStats();
    this.predictorError.set({ stat: 'samples' }, s.samples);
    this.predictorError.set({ stat: 'mae_seconds' }, s.meanAbsErrorSec);
    this.predictorError.set({ stat: 'mape' }, s.meanAbsPctError);
    this.predictorError.set({ stat: 'under_predicted_fraction' }, s.underPredictedFraction);
  }

  async runCycle(): Promise<CycleReport> {
    const end = this.cycleSeconds.startTimer();
    const nowMs = this.clock.now();
    const [nodeRows, queueRows, runningRows, history] = await Promise.all([
      this.nodes.list(),
      this.tasks.queued(MAX_QUEUE),
      this.tasks.live(),
      this.tasks.usageSince(nowMs - this.config.GPU_QUOTA_WINDOW_SEC * 1000),
      this.refreshPredictor(),
    ]);
    const report: CycleReport = { bound: 0, conflicts: 0, bindMs: 0 };
    // The queue comes in arrival order, so each tier's first row is its oldest.
    for (const tier of ['vip', 'normal'] as const) {
      const oldest = queueRows.find((r) => r.tier === tier);
      this.oldestWait.set({ tier }, oldest ? Math.max(0, nowMs - oldest.queuedAtMs) / 1000 : 0);
    }
    const now = nowMs / 1000;
    const predict = (t: Task) => this.predictor.predict(t);
    const running: RunningTask[] = runningRows.map((r) => {
      const task = toDomainTask(r);
      const startedAt = (r.startedAtMs ?? r.scheduledAtMs ?? nowMs) / 1000;
      return { task, startedAt, allocations: placementOf(r), predictedEndAt: startedAt + (r.predictedRuntimeSec ?? predict(task)) };
    });
    const usage = windowUsage(history, running, now, this.config.GPU_QUOTA_WINDOW_SEC);
    const used = usage.vip + usage.normal;
    this.quotaShare.set({ tier: 'vip' }, used > 0 ? usage.vip / used : 0);
    this.quotaShare.set({ tier: 'normal' }, used > 0 ? usage.normal / used : 0);
    if (queueRows.length === 0 || nodeRows.length === 0) {
      this.slips.retain(() => false);
      end();
      return report;
    }
    const result = scheduleCycle({ nodes: nodeRows.map(toDomainNode), queue: queueRows.map(toDomainTask), running, history }, now, {
      policy: this.config.GPU_POLICY,
      predictRuntime: predict,
      scorer: this.config.GPU_SCORE_POLICY === 'best-fit' ? bestFit : worstFit,
      quota: { windowSec: this.config.GPU_QUOTA_WINDOW_SEC, vipShare: this.config.GPU_VIP_SHARE },
      aging: { maxAgeSec: this.config.GPU_AGING_MAX_AGE_SEC },
    });
    this.slips.observe(result.reservation);

    const snapshots = new Map<string, NodeSnapshot>(nodeRows.map((n) => [n.id, snapshotOf(n)]));
    const stale = new Set<string>();
    const byId = new Map(queueRows.map((r) => [r.id, r]));
    const touchesStale = (d: Decision) => d.allocations.some((a) => stale.has(a.nodeId));
    const dispatches: Promise<void>[] = [];
    const bindStart = process.hrtime.bigint();
    /** Binds `ds` in one transaction; on success dispatches them; on a conflict nothing is bound. */
    const bindAll = async (ds: Decision[]): Promise<BindOutcome> => {
      const bindMs = this.clock.now();
      const ctx = { ns: this.config.NAMESPACE, nowMs: bindMs, ackDeadlineMs: bindMs + this.config.GPU_ACK_TIMEOUT_MS };
      const reqs: BindRequest[] = ds.map((d) => {
        const row = byId.get(d.taskId)!;
        return { taskId: d.taskId, taskVersion: String(row.version), attempt: row.attempt + 1, allocations: d.allocations, predictedRuntimeSec: predict(toDomainTask(row)), backfilled: d.backfilled };
      });
      const events = reqs.map((r) => {
        const row = byId.get(r.taskId)!;
        return { type: 'SCHEDULED' as const, taskId: r.taskId, attempt: r.attempt, status: 'SCHEDULED' as const, userId: row.userId, tier: row.tier, placement: r.allocations };
      });
      const outcome = await this.binder.bindBatch(ctx, reqs, snapshots, events);
      if (!outcome.ok) return outcome;
      for (const [id, snap] of outcome.nodes) snapshots.set(id, snap);
      report.bound += ds.length;
      for (const d of ds) {
        const slip = this.slips.started(d.taskId, bindMs / 1000);
        if (slip !== undefined) this.headSlip.observe(Math.max(0, slip));
      }
      this.decisionsTotal.inc({ outcome: 'bound' }, ds.length);
      // Dispatches go out while the next batch binds (Redis and PostgreSQL work in parallel); each
      // is sent only after its own binding committed.
      for (const r of reqs) {
        dispatches.push(
          this.dispatch(byId.get(r.taskId)!, r.attempt, r.allocations, r.predictedRuntimeSec, ctx.ackDeadlineMs).then((ok) => {
            if (!ok) this.decisionsTotal.inc({ outcome: 'dispatch_failed' });
          }),
        );
      }
      return outcome;
    };
    /** A conflict lost a version race at commit; skipped_stale was not tried: a node it needed had already conflicted, so the snapshot was stale. */
    const lost = (d: Decision, outcome: 'conflict' | 'skipped_stale') => {
      this.decisionsTotal.inc({ outcome });
      if (outcome !== 'conflict') return;
      report.conflicts++;
      for (const a of d.allocations) stale.add(a.nodeId);
    };
    // Decisions bind in priority order, GPU_BIND_BATCH per transaction (enough to amortise the round
    // trips, few enough that a conflict costs little). A batch that loses a race rolls back whole; when
    // the binder names the losers (stale nodes, tasks no longer queued) they are dropped and the rest
    // binds again as a batch, else the batch is retried one by one. After a conflict on a node our
    // snapshot of it is stale, and later decisions there would only conflict too: they are skipped.
    const size = this.config.GPU_BIND_BATCH;
    for (let i = 0; i < result.decisions.length; i += size) {
      let batch = result.decisions.slice(i, i + size);
      let losers: { nodes: Set<string>; tasks: Set<string> } | undefined;
      for (;;) {
        const kept = batch.filter((d) => {
          if (touchesStale(d)) lost(d, 'skipped_stale');
          else if (losers && (losers.tasks.has(d.taskId) || d.allocations.some((a) => losers!.nodes.has(a.nodeId)))) lost(d, 'conflict');
          else return true;
          return false;
        });
        const progress = !losers || kept.length < batch.length;
        batch = kept;
        if (batch.length === 0) break;
        const out = progress ? await bindAll(batch) : undefined;
        if (out?.ok) break;
        if (out && (out.staleNodes || out.lostTasks)) {
          losers = { nodes: new Set(out.staleNodes), tasks: new Set(out.lostTasks) };
          continue;
        }
        for (const d of batch) {
          if (touchesStale(d)) lost(d, 'skipped_stale');
          else if (!(await bindAll([d])).ok) lost(d, 'conflict');
        }
        break;
      }
    }
    await Promise.all(dispatches);
    report.bindMs = Number(process.hrtime.bigint() - bindStart) / 1e6;
    this.slips.retain((id) => byId.has(id));
    this.outbox.poke();
    end();
    return report;
  }

  /** DISPATCH to every node of the gang; if any cannot be queued the binding is rolled back. */
  private async dispatch(row: StoredTask, attempt: number, allocs: Allocation[], predicted: number, ackDeadline: number): Promise<boolean> {
    try {
      for (const a of allocs) {
        const msg: DispatchMessage = { taskId: row.id, attempt, ...a, command: row.command ?? undefined, model: row.model ?? undefined, predictedRuntimeSec: predicted, ackDeadline };
        // No job id: a (task, attempt) binds once, so there is nothing to dedupe, and an id costs BullMQ a lookup per add.
        await this.queue.add(nodeQueueName(a.nodeId), DISPATCH_JOB, msg);
      }
      return true;
    } catch (e) {
      this.log.warn(`dispatch of ${row.id} attempt ${attempt} failed, rolling back: ${(e as Error).message}`);
      await this.lifecycle.rollbackDispatch(row.id, attempt, `dispatch failed: ${(e as Error).message}`);
      return false;
    }
  }

  /** Rolls back bindings whose nodes did not all ACCEPT before the deadline. */
  async expireUnacknowledged(): Promise<number> {
    let n = 0;
    for (const r of await this.tasks.unacknowledged(this.clock.now())) {
      if (await this.lifecycle.rollbackDispatch(r.id, r.attempt, 'dispatch not acknowledged in time')) {
        n++;
        this.decisionsTotal.inc({ outcome: 'ack_timeout' });
      }
    }
    return n;
  }

  /** Nodes silent for longer than the heartbeat timeout become UNHEALTHY; their tasks fail or requeue. */
  async expireSilentNodes(): Promise<string[]> {
    const ids = await this.nodes.markSilentUnhealthy(this.clock.now() - this.config.GPU_HEARTBEAT_TIMEOUT_MS);
    for (const id of ids) {
      const n = await this.lifecycle.failTasksOnNode(id);
      this.log.warn(`node ${id} missed heartbeats: UNHEALTHY, ${n} task(s) failed or requeued`);
    }
    // Also sweep leftovers: live allocations on nodes that are already UNHEALTHY (e.g. a crash between steps).
    for (const id of await this.nodes.unhealthyHolding()) if (!ids.includes(id)) await this.lifecycle.failTasksOnNode(id);
    return ids;
  }
}
