import { Job, JobQueue, QueueWorker } from '../../../platform/queue/job-queue.port';
import {
  AgentReport,
  AgentReportEvent,
  CANCEL_JOB,
  CancelMessage,
  DISPATCH_JOB,
  DispatchMessage,
  nodeQueueName,
} from '../agent-protocol';
import { GpuInventory } from './gpu-discovery';
import { AgentLog } from './process-runner';
import { CallResult, RetryPolicy, SchedulerClient, summary } from './scheduler-client';
import { RunningTask, TaskExecutor, TaskOutcome } from './task-executor';

export interface NodeAgentOptions {
  nodeId: string;
  inventory: GpuInventory;
  client: SchedulerClient;
  queue: JobQueue;
  executor: TaskExecutor;
  heartbeatMs: number;
  /**
   * Real agents register on start (and again when the scheduler no longer knows them); a built-in
   * simulated node was registered by POST /gpu/nodes, and re-registering could undo an operator's
   * PATCH, so it only heartbeats.
   */
  register: boolean;
  labels?: Record<string, string>;
  /** Per-slot utilization for heartbeats (nvidia-smi); default: the share held (1000 milli = 100). */
  utilization?: () => Promise<number[] | undefined>;
  log: AgentLog;
}

/** How long final reports keep retrying while the scheduler is unreachable. */
const FINAL_REPORT_BUDGET_MS = 600_000;

interface LocalTask {
  taskId: string;
  attempt: number;
  slots: number[];
  /** Milli of each slot this task holds (1000 = whole GPUs). */
  milli: number;
  run?: RunningTask;
  /** Set when a cancel arrived before the run started. */
  cancelBeforeStart?: string;
  /** Set by stop(): the run ends because the agent does, which is a failure for the task's policy, not a user cancel. */
  stoppedByAgent?: boolean;
  /** Reports of one task go out strictly in order: ACCEPTED, STARTED, then the final one. */
  reports: Promise<unknown>;
}

/** Bounded memory of recent task attempts (finished or cancelled before dispatch). */
class RecentAttempts {
  private readonly map = new Map<string, number>();
  constructor(private readonly max = 2000) {}
  remember(taskId: string, attempt: number): void {
    this.map.delete(taskId);
    this.map.set(taskId, Math.max(attempt, this.map.get(taskId) ?? 0));
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  /** True when this attempt (or a later one) is remembered. */
  covers(taskId: string, attempt: number): boolean {
    return (this.map.get(taskId) ?? -1) >= attempt;
  }
}

/**
 * One node's agent, independent of how it is hosted (the `agent` role, or a built-in simulated node
 * in a worker) and of how tasks run (TaskExecutor). It speaks only agent-protocol.ts: it consumes
 * the node queue (dispatch, cancel) and reports over the SchedulerClient.
 *
 * Per dispatch: reserve the slots, report ACCEPTED (retried until the ack deadline; a rejection
 * means the binding is gone, so the task is dropped), start the run, report STARTED, and when the
 * run ends report SUCCEEDED / FAILED / CANCELLED. The queue job completes once the run has started,
 * so a cancel is never stuck behind long runs. A task stays in the heartbeat's runningTaskIds until
 * its final report is delivered, so the scheduler does not fail it as an orphan in between.
 */
export class NodeAgent {
  private readonly tasks = new Map<string, LocalTask>();
  /** slot → the local tasks (attempts) holding a share of it; at most 1000 milli together. */
  private readonly busy = new Map<number, Set<LocalTask>>();
  private readonly finished = new RecentAttempts();
  private readonly cancelledEarly = new RecentAttempts();
  private readonly inFlight = new Set<Promise<unknown>>();
  private worker?: QueueWorker;
  private heartbeatTimer?: NodeJS.Timeout;
  private stopped = false;
  private lastHeartbeatOk = true;
  private started?: Promise<void>;

  constructor(private readonly o: NodeAgentOptions) {}

  /** Task ids on this node now (running, or finished with the final report not yet delivered). */
  runningTaskIds(): string[] {
    return [...this.tasks.keys()];
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Registers (real agents; retried until it works or the agent stops), then consumes and heartbeats. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    if (this.o.register && !(await this.registerNode())) return;
    if (this.stopped) return;
    this.worker = this.o.queue.process<unknown>(nodeQueueName(this.o.nodeId), (job) => this.onJob(job), { concurrency: 8 });
    this.o.log.log(
      `node ${this.o.nodeId}: ${this.o.inventory.physicalIndices.length} x ${this.o.inventory.gpuType} ` +
        `(${this.o.inventory.gpuMemoryGb} GB${this.o.inventory.simulated ? ', simulated' : ''}) consuming ${nodeQueueName(this.o.nodeId)}`,
    );
    await this.heartbeat();
  }

  private async registerNode(): Promise<boolean> {
    const inv = this.o.inventory;
    const r = await this.o.client.register(
      { id: this.o.nodeId, gpuType: inv.gpuType, gpuCount: inv.physicalIndices.length, gpuMemoryGb: inv.gpuMemoryGb, labels: this.o.labels },
      { budgetMs: Number.POSITIVE_INFINITY },
    );
    if (r.kind === 'ok') return true;
    this.o.log.warn(`node ${this.o.nodeId}: registration ${describe(r)}`);
    return false;
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.o.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private async heartbeat(): Promise<void> {
    try {
      const gpuUtilization = (await this.o.utilization?.()) ?? this.slotUtilization();
      const r = await this.o.client.heartbeat(this.o.nodeId, { runningTaskIds: this.runningTaskIds(), gpuUtilization });
      if (r.kind === 'rejected' && r.status === 404 && this.o.register && !this.stopped) {
        // The scheduler lost the node (a fresh database, an admin removed it): come back as at start-up.
        this.o.log.warn(`node ${this.o.nodeId}: unknown to the scheduler, registering again`);
        await this.registerNode();
      } else if ((r.kind === 'ok') !== this.lastHeartbeatOk) {
        this.lastHeartbeatOk = r.kind === 'ok';
        this.o.log.warn(`node ${this.o.nodeId}: heartbeat ${r.kind === 'ok' ? 'recovered' : describe(r)}`);
      }
    } catch (e) {
      this.o.log.warn(`node ${this.o.nodeId}: heartbeat failed: ${(e as Error).message}`);
    } finally {
      this.scheduleHeartbeat();
    }
  }

  private slotUtilization(): number[] {
    return this.o.inventory.physicalIndices.map((_, slot) => Math.min(100, this.heldMilli(slot) / 10));
  }

  /** Milli held on a slot by tasks other than `exceptTaskId` (an older attempt of it may still be dying there). */
  private heldMilli(slot: number, exceptTaskId?: string): number {
    let m = 0;
    for (const t of this.busy.get(slot) ?? []) if (t.taskId !== exceptTaskId) m += t.milli;
    return m;
  }

  private async onJob(job: Job<unknown>): Promise<void> {
    const p = (async () => {
      if (job.name === DISPATCH_JOB && isDispatch(job.data)) return this.onDispatch(job.data);
      if (job.name === CANCEL_JOB && isCancel(job.data)) return this.onCancel(job.data);
      this.o.log.warn(`node ${this.o.nodeId}: dropping malformed ${job.name} job ${job.id}`);
    })();
    this.track(p);
    // Never throw: a retried dispatch would only race the scheduler's own ack-deadline rollback.
    await p.catch((e: unknown) => this.o.log.warn(`node ${this.o.nodeId}: ${job.name} job ${job.id} failed: ${(e as Error).message}`));
  }

  private async onDispatch(msg: DispatchMessage): Promise<void> {
    const label = `task ${msg.taskId}#${msg.attempt}`;
    if (msg.nodeId !== this.o.nodeId) {
      this.o.log.warn(`node ${this.o.nodeId}: ${label} was dispatched to ${msg.nodeId}, ignoring`);
      return;
    }
    const existing = this.tasks.get(msg.taskId);
    if (existing && existing.attempt === msg.attempt) {
      // A redelivered dispatch: acknowledge again (idempotent), never run twice.
      this.enqueueReport(existing, 'ACCEPTED', {}, { budgetMs: 10_000 });
      return;
    }
    if ((existing && existing.attempt > msg.attempt) || this.finished.covers(msg.taskId, msg.attempt)) return;
    if (this.cancelledEarly.covers(msg.taskId, msg.attempt)) {
      await this.send(msg.taskId, { nodeId: this.o.nodeId, attempt: msg.attempt, event: 'CANCELLED', reason: 'cancelled before dispatch' }, { budgetMs: 10_000 });
      return;
    }
    if (existing) existing.run?.cancel(`superseded by attempt ${msg.attempt}`);

    const count = this.o.inventory.physicalIndices.length;
    const slots = msg.gpuIndices;
    const invalid = slots.filter((s, i) => !Number.isInteger(s) || s < 0 || s >= count || slots.indexOf(s) !== i);
    // An older attempt of this same task may still be dying on these slots: not a conflict.
    const milli = msg.gpuMilli ?? 1000;
    const taken = slots.filter((s) => this.heldMilli(s, msg.taskId) + milli > 1000);
    if (invalid.length > 0 || taken.length > 0 || slots.length === 0 || !(milli >= 1 && milli <= 1000)) {
      const reason =
        invalid.length > 0 || slots.length === 0
          ? `invalid GPU indices [${slots.join(',')}] for a node with ${count} GPUs`
          : taken.length === 0
            ? `invalid GPU share ${milli} milli`
            : `GPU(s) ${taken.join(',')} still busy on node ${this.o.nodeId} with task(s) ${[...new Set(taken.flatMap((s) => [...this.busy.get(s)!].map((t) => t.taskId)))].join(',')}`;
      this.o.log.warn(`node ${this.o.nodeId}: ${label} refused: ${reason}`);
      await this.send(msg.taskId, { nodeId: this.o.nodeId, attempt: msg.attempt, event: 'FAILED', reason }, { budgetMs: 30_000 });
      this.finished.remember(msg.taskId, msg.attempt);
      return;
    }

    const task: LocalTask = { taskId: msg.taskId, attempt: msg.attempt, slots: [...slots], milli, reports: Promise.resolve() };
    this.tasks.set(msg.taskId, task);
    for (const s of slots) {
      let held = this.busy.get(s);
      if (!held) this.busy.set(s, (held = new Set()));
      held.add(task);
    }

    const ack = await this.enqueueReport(task, 'ACCEPTED', {}, { budgetMs: Math.max(2_000, msg.ackDeadline - Date.now()) });
    const notLive = ack.kind === 'ok' ? refusalOf(ack) : describe(ack);
    if (notLive !== undefined) {
      // Too late or refused: the scheduler rolls the binding back and requeues; nothing ran here.
      this.o.log.warn(`node ${this.o.nodeId}: ${label} not acknowledged (${notLive}); dropped`);
      this.release(task);
      this.tasks.delete(msg.taskId);
      return;
    }
    if (task.cancelBeforeStart !== undefined) {
      this.runEnded(task, { kind: 'CANCELLED', reason: task.cancelBeforeStart });
      return;
    }
    try {
      task.run = this.o.executor.start({
        taskId: msg.taskId,
        attempt: msg.attempt,
        command: msg.command,
        deviceIndices: slots.map((s) => this.o.inventory.physicalIndices[s]),
        predictedRuntimeSec: msg.predictedRuntimeSec,
        gpuMilli: milli,
        ...(msg.cpuMilli !== undefined ? { cpuMilli: msg.cpuMilli } : {}),
        ...(msg.memoryMib !== undefined ? { memoryMib: msg.memoryMib } : {}),
      });
    } catch (e) {
      this.runEnded(task, { kind: 'FAILED', reason: `cannot start: ${(e as Error).message}` });
      return;
    }
    const run = task.run;
    void this.enqueueReport(task, 'STARTED', {}).then((r) => {
      const why = refusalOf(r);
      // The scheduler no longer has this attempt here (rolled back, failed over, finished): stop it.
      if (why !== undefined) run.cancel(`scheduler refused STARTED (${why})`);
    });
    this.track(run.done.then((outcome) => this.runEnded(task, outcome)));
  }

  private runEnded(task: LocalTask, outcome: TaskOutcome): Promise<unknown> {
    this.release(task);
    this.finished.remember(task.taskId, task.attempt);
    let event: AgentReportEvent = outcome.kind;
    let extra: Partial<AgentReport>;
    if (outcome.kind === 'SUCCEEDED') extra = { exitCode: outcome.exitCode };
    else if (outcome.kind === 'FAILED') extra = { exitCode: outcome.exitCode, reason: outcome.reason };
    else if (task.stoppedByAgent) [event, extra] = ['FAILED', { reason: 'agent stopped' }];
    else extra = { reason: outcome.reason };
    const p = this.enqueueReport(task, event, extra, { budgetMs: FINAL_REPORT_BUDGET_MS }).then((r) => {
      if (r.kind !== 'ok') this.o.log.warn(`node ${this.o.nodeId}: task ${task.taskId}#${task.attempt} ${event} not delivered (${describe(r)})`);
      if (this.tasks.get(task.taskId) === task) this.tasks.delete(task.taskId);
    });
    this.track(p);
    return p;
  }

  private release(task: LocalTask): void {
    for (const s of task.slots) {
      const held = this.busy.get(s);
      held?.delete(task);
      if (held?.size === 0) this.busy.delete(s);
    }
  }

  private async onCancel(msg: CancelMessage): Promise<void> {
    const task = this.tasks.get(msg.taskId);
    if (task && task.attempt <= msg.attempt) {
      const reason = 'cancelled';
      if (task.run) task.run.cancel(reason);
      else task.cancelBeforeStart ??= reason;
      if (task.attempt === msg.attempt) return;
    }
    if (this.finished.covers(msg.taskId, msg.attempt)) return;
    // Not here (yet): the dispatch may still be queued behind this cancel; it must not start later.
    this.cancelledEarly.remember(msg.taskId, msg.attempt);
    await this.send(msg.taskId, { nodeId: this.o.nodeId, attempt: msg.attempt, event: 'CANCELLED', reason: 'cancelled before start' }, { budgetMs: 10_000 });
  }

  private enqueueReport(task: LocalTask, event: AgentReportEvent, extra: Partial<AgentReport>, retry?: Partial<RetryPolicy>): Promise<CallResult> {
    const report: AgentReport = { nodeId: this.o.nodeId, attempt: task.attempt, event, ...extra };
    const p = task.reports.then(() => this.send(task.taskId, report, retry));
    task.reports = p.catch(() => undefined);
    return p;
  }

  private async send(taskId: string, report: AgentReport, retry?: Partial<RetryPolicy>): Promise<CallResult> {
    if (report.reason && report.reason.length > 500) report = { ...report, reason: report.reason.slice(0, 497) + '...' };
    const r = await this.o.client.report(taskId, report, retry);
    this.o.log.debug?.(`node ${this.o.nodeId}: task ${taskId}#${report.attempt} ${report.event} → ${r.kind}`);
    return r;
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined);
    this.inFlight.add(q);
    void q.finally(() => this.inFlight.delete(q));
  }

  /**
   * Stops consuming and heartbeating. With `terminateRunning`, running tasks are stopped (SIGTERM,
   * SIGKILL after `graceMs`) and reported FAILED "agent stopped", so their policy (fail or requeue)
   * applies now instead of after the heartbeat timeout. Waits at most `waitMs` for that.
   */
  async stop(opts: { terminateRunning: boolean; graceMs?: number; waitMs?: number } = { terminateRunning: true }): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    // Closing the worker waits for its running jobs, and a job may be a report still retrying:
    // cancel first, then wait for both under one bound, so a shutdown is never held up by them.
    const workerClosed = this.worker?.close();
    if (opts.terminateRunning) {
      for (const t of this.tasks.values()) {
        if (!t.run) continue;
        t.stoppedByAgent = true;
        t.run.cancel('agent stopped', opts.graceMs ?? 2_000);
      }
    }
    const all = Promise.all([workerClosed, ...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, opts.waitMs ?? 5_000)))]);
    clearTimeout(timer);
  }
}

const LIVE = ['SCHEDULED', 'RUNNING'];

/**
 * Why the scheduler does not (or no longer) hold this attempt live on this node, or undefined when
 * it does. It answers a report with 200 and `{ status, ignored? }` (ignored: stale_attempt,
 * not_placed, not_applicable, or duplicate — a repeat, which is fine), or a 4xx for an unknown task.
 */
export function refusalOf(r: CallResult): string | undefined {
  if (r.kind === 'rejected') return describe(r);
  if (r.kind !== 'ok') return undefined;
  const b = (r.body ?? {}) as { ignored?: unknown; status?: unknown };
  if (typeof b.ignored === 'string' && b.ignored !== 'duplicate') return `ignored: ${b.ignored}`;
  if (typeof b.status === 'string' && !LIVE.includes(b.status)) return `task is ${b.status}`;
  return undefined;
}

function describe(r: CallResult): string {
  if (r.kind === 'ok') return 'ok';
  if (r.kind === 'rejected') return `rejected with ${r.status} ${summary(r.body)}`;
  return `gave up: ${r.error}`;
}

function isDispatch(d: unknown): d is DispatchMessage {
  const m = d as DispatchMessage;
  return (
    !!m &&
    typeof m.taskId === 'string' &&
    Number.isInteger(m.attempt) &&
    typeof m.nodeId === 'string' &&
    Array.isArray(m.gpuIndices) &&
    typeof m.predictedRuntimeSec === 'number' &&
    typeof m.ackDeadline === 'number'
  );
}

function isCancel(d: unknown): d is CancelMessage {
  const m = d as CancelMessage;
  return !!m && typeof m.taskId === 'string' && Number.isInteger(m.attempt);
}
