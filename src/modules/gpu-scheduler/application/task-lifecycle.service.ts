import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { AgentReport, CANCEL_JOB, CancelMessage, nodeQueueName } from '../agent-protocol';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';
import { ReportResult, TaskStatus, TaskView, TERMINAL } from '../gpu-scheduler.types';
import { gpuShareOf } from '../domain';
import { placementOf, StoredTask, toTaskView } from '../ports/gpu-rows';
import { Outbox } from '../../../platform/outbox/outbox';
import { TaskEvent } from '../ports/task-events.port';
import { TaskStore, TaskTx } from '../ports/task-store.port';
import { CycleTrigger } from './cycle-trigger';

/** Side effects to run after a transaction commits (never inside it: a rollback must not leave them). */
interface After {
  cancels: { nodeId: string; msg: CancelMessage }[];
  trigger: boolean;
}

const isTerminal = (s: TaskStatus) => TERMINAL.includes(s);

/**
 * Every task state change after submit: agent reports, cancel, dispatch rollback and node failure.
 * Each is one transaction over the task row (FOR UPDATE) and the GPU rows it frees, plus an outbox
 * event; CANCEL jobs, the event relay and the next cycle follow the commit.
 *
 * GPUs are freed per node when that node says its process ended (a terminal report) or when the
 * node is declared UNHEALTHY, so a GPU never returns to the pool while an agent may still run on it
 * — except on dispatch rollback and node failure of a gang's peer, where the other nodes get a
 * CANCEL job at once (see docs/gpu-scheduler.md, "known gaps").
 */
@Injectable()
export class TaskLifecycle {
  private readonly log = new Logger('gpu-tasks');

  constructor(
    private readonly store: TaskStore,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly outbox: Outbox,
    private readonly trigger: CycleTrigger,
  ) {}

  /** Runs `fn` in one store transaction (retried from the start on a deadlock); side effects follow the commit. */
  private async tx<T>(fn: (tx: TaskTx, after: After) => Promise<T>): Promise<T> {
    let after: After = { cancels: [], trigger: false };
    const res = await this.store.transaction((tx) => fn(tx, (after = { cancels: [], trigger: false })));
    await this.afterCommit(after);
    return res;
  }

  private async afterCommit(after: After): Promise<void> {
    for (const c of after.cancels) {
      try {
        await this.queue.add(nodeQueueName(c.nodeId), CANCEL_JOB, c.msg, { jobId: `cancel-${c.msg.taskId}-${c.msg.attempt}` });
      } catch (e) {
        // The agent's process, if any, is orphaned; its reports are stale and its heartbeat lists it.
        this.log.warn(`cancel of ${c.msg.taskId} on ${c.nodeId} not queued: ${(e as Error).message}`);
      }
    }
    this.outbox.poke();
    if (after.trigger) this.trigger.request();
  }

  private async event(tx: TaskTx, t: StoredTask, type: TaskEvent['type'], status: TaskStatus, now: number, reason?: string) {
    await tx.event({ type, taskId: t.id, attempt: t.attempt, status, userId: t.userId, tier: t.tier, placement: placementOf(t), reason }, now);
  }

  /** Ends the task (attempt stays); records its GPU time for the quota window and, on success, its runtime. */
  private async finish(tx: TaskTx, t: StoredTask, status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', now: number, reason?: string, exitCode?: number) {
    await tx.finish(t.id, status, now, reason, exitCode);
    await this.recordUsage(tx, t, now);
    if (status === 'SUCCEEDED' && t.startedAtMs !== null) {
      const runtimeSec = Math.max(0, (now - t.startedAtMs) / 1000);
      await tx.addRuntime({ model: t.model, gpuCount: t.gpuCount, runtimeSec, predictedSec: t.predictedRuntimeSec, nowMs: now });
    }
    await this.event(tx, t, status, status, now, reason);
  }

  private async recordUsage(tx: TaskTx, t: StoredTask, now: number) {
    const startMs = t.startedAtMs ?? t.scheduledAtMs;
    if (startMs === null) return;
    // GPUs held in GPU units: a 250-milli share is charged 0.25 GPU.
    const gpus = gpuShareOf({ gpuCount: t.gpuCount, gpuMilli: t.gpuMilli ?? undefined });
    await tx.addUsage({ taskId: t.id, attempt: t.attempt, tier: t.tier, gpus, startMs, endMs: now });
  }

  /**
   * Frees the attempt's GPUs on nodes whose agent never acknowledged it (nothing runs there) and on
   * `deadNode`; nodes that ACCEPTED/STARTED keep theirs until their agent reports the process ended
   * (after the CANCEL job) or the node itself fails, so no GPU is handed out while a process may
   * still run on it.
   */
  private async releaseUnconfirmed(tx: TaskTx, t: StoredTask, now: number, deadNode?: string): Promise<void> {
    for (const p of placementOf(t)) {
      if (p.nodeId === deadNode || !t.acceptedNodes.includes(p.nodeId)) await tx.release(t.id, t.attempt, now, p.nodeId);
    }
  }

  /** CANCEL jobs to every node of the current attempt except those already done. */
  private cancelOthers(t: StoredTask, after: After, except: Set<string>) {
    for (const p of placementOf(t)) {
      if (!except.has(p.nodeId)) after.cancels.push({ nodeId: p.nodeId, msg: { taskId: t.id, attempt: t.attempt } });
    }
  }

  /**
   * An agent's report. Idempotent per (task, attempt, node, event); a report for an older attempt
   * (a rolled-back or requeued binding) or from a node the task is not placed on changes nothing.
   */
  async report(taskId: string, r: AgentReport): Promise<ReportResult> {
    return this.tx(async (tx, after) => {
      const now = this.clock.now();
      const t = await tx.lock(taskId);
      if (!t) throw new GpuError('not_found', GpuCode.TaskNotFound, `task ${taskId} not found`);
      const result = (ignored?: ReportResult['ignored'], status: TaskStatus = t.status): ReportResult => ({
        taskId,
        status,
        attempt: t.attempt,
        ...(ignored ? { ignored } : {}),
      });
      const terminal = r.event === 'SUCCEEDED' || r.event === 'FAILED' || r.event === 'CANCELLED';
      const nodes = t.attempt === r.attempt ? placementOf(t).map((p) => p.nodeId) : [];
      if (r.attempt !== t.attempt || !nodes.includes(r.nodeId)) {
        // The node's process of that attempt has ended: GPUs still held for it (a gang peer kept
        // until its agent confirms the stop) go back to the pool.
        if (terminal && (await tx.release(taskId, r.attempt, now, r.nodeId))) after.trigger = true;
        return result(r.attempt !== t.attempt ? 'stale_attempt' : 'not_placed');
      }
      if (!(await tx.addReport(taskId, r.attempt, r.nodeId, r.event, now))) return result('duplicate');

      if (r.event === 'ACCEPTED' || r.event === 'STARTED') {
        if (t.status !== 'SCHEDULED' && t.status !== 'RUNNING') return result('not_applicable');
        const start = r.event === 'STARTED' && t.status === 'SCHEDULED';
        await tx.accept(taskId, r.nodeId, start, now);
        if (start) {
          t.startedAtMs = now;
          await this.event(tx, t, 'RUNNING', 'RUNNING', now);
          return result(undefined, 'RUNNING');
        }
        return result();
      }

      // A terminal report: this node's process has ended, so its GPUs are free again.
      await tx.release(taskId, t.attempt, now, r.nodeId);
      after.trigger = true;
      if (isTerminal(t.status)) return result();
      const done = await tx.finalReports(t.id, t.attempt);
      if (r.event === 'SUCCEEDED') {
        if (nodes.every((n) => done.get(n) === 'SUCCEEDED')) {
          await this.finish(tx, t, 'SUCCEEDED', now, undefined, r.exitCode ?? 0);
          return result(undefined, 'SUCCEEDED');
        }
        return result();
      }
      const status = r.event === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
      await this.finish(tx, t, status, now, r.reason ?? (status === 'FAILED' ? `failed on ${r.nodeId}` : undefined), r.exitCode);
      // After a client cancel every node already has its CANCEL job.
      if (!t.cancelRequested) this.cancelOthers(t, after, new Set(done.keys()));
      return result(undefined, status);
    });
  }

  /** QUEUED → CANCELLED at once; SCHEDULED/RUNNING → a CANCEL job per node, CANCELLED when agents confirm. */
  async cancel(taskId: string): Promise<{ accepted: boolean; view: TaskView }> {
    return this.tx(async (tx, after) => {
      const now = this.clock.now();
      const t = await tx.lock(taskId);
      if (!t) throw new GpuError('not_found', GpuCode.TaskNotFound, `task ${taskId} not found`);
      if (t.status === 'CANCELLED') return { accepted: false, view: toTaskView(t) };
      if (isTerminal(t.status)) {
        throw new GpuError('conflict', GpuCode.TaskFinished, `task ${taskId} already ${t.status}`, { taskStatus: t.status });
      }
      if (t.status === 'QUEUED') {
        await this.finish(tx, t, 'CANCELLED', now, 'cancelled by client');
        return { accepted: false, view: toTaskView({ ...t, status: 'CANCELLED', finishedAtMs: now, reason: 'cancelled by client' }) };
      }
      if (!t.cancelRequested) {
        await tx.requestCancel(taskId);
        const done = await tx.finalReports(t.id, t.attempt);
        this.cancelOthers(t, after, new Set(done.keys()));
      }
      return { accepted: true, view: toTaskView({ ...t, cancelRequested: true }) };
    });
  }

  /**
   * Undoes a binding whose dispatch failed or was not acknowledged in time: GPUs back to the pool,
   * the task back to QUEUED with its original queuedAt (so it is at the head of its queue again),
   * or CANCELLED if the client cancelled meanwhile. A no-op if the attempt has moved on. Callers
   * only call it for an incomplete dispatch (a node not reached, or not acknowledging).
   */
  async rollbackDispatch(taskId: string, attempt: number, reason: string): Promise<boolean> {
    return this.tx(async (tx, after) => {
      const now = this.clock.now();
      const t = await tx.lock(taskId);
      // RUNNING too: one node of a gang may have started while another never got (or acked) its part.
      if (!t || t.attempt !== attempt || (t.status !== 'SCHEDULED' && t.status !== 'RUNNING')) return false;
      await this.releaseUnconfirmed(tx, t, now);
      await this.recordUsage(tx, t, now);
      this.cancelOthers(t, after, new Set());
      after.trigger = true;
      if (t.cancelRequested) {
        await this.finish(tx, t, 'CANCELLED', now, `cancelled before dispatch was acknowledged (${reason})`);
        return true;
      }
      await this.requeue(tx, t, now, reason);
      return true;
    });
  }

  private async requeue(tx: TaskTx, t: StoredTask, now: number, reason: string) {
    await tx.requeue(t.id, reason);
    await this.event(tx, t, 'REQUEUED', 'QUEUED', now, reason);
  }

  /**
   * A node became UNHEALTHY: every task holding GPUs on it fails or is requeued (its onNodeFailure
   * policy), all its GPUs are released, and its gang peers on other nodes get CANCEL jobs.
   * Returns how many tasks were affected.
   */
  async failTasksOnNode(nodeId: string): Promise<number> {
    const live = await this.store.holding(nodeId);
    let affected = 0;
    for (const a of live) {
      const hit = await this.tx(async (tx, after) => {
        const now = this.clock.now();
        const t = await tx.lock(a.taskId);
        if (!t) return false;
        after.trigger = true;
        if (t.attempt !== a.attempt || isTerminal(t.status) || t.status === 'QUEUED') {
          await tx.release(a.taskId, a.attempt, now, nodeId);
          return false;
        }
        await this.releaseUnconfirmed(tx, t, now, nodeId);
        this.cancelOthers(t, after, new Set([nodeId]));
        const reason = `node ${nodeId} became UNHEALTHY`;
        if (t.cancelRequested) await this.finish(tx, t, 'CANCELLED', now, reason);
        else if (t.onNodeFailure === 'requeue') {
          await this.recordUsage(tx, t, now);
          await this.requeue(tx, t, now, reason);
        } else await this.finish(tx, t, 'FAILED', now, reason);
        return true;
      });
      if (hit) affected++;
    }
    return affected;
  }
}
