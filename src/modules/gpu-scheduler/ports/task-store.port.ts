import type { Tier, UsageRecord } from '../domain';
import type { AgentReportEvent } from '../agent-protocol';
import type { SubmitTaskInput, TaskStatus } from '../gpu-scheduler.types';
import type { StoredTask } from './gpu-rows';
import type { NewTaskEvent } from './task-events.port';

/** A finished run, as the runtime predictor learns it. */
export interface RuntimeSample {
  seq: string;
  model: string | null;
  gpuCount: number;
  runtimeSec: number;
  predictedSec: number | null;
}

/** The writes of one task-state transaction (TaskStore.transaction); events commit with them. */
export interface TaskTx {
  /** Reads the task and locks it until the transaction ends. */
  lock(taskId: string): Promise<StoredTask | undefined>;
  /** Records an agent's report once per (task, attempt, node, event); false when it was there already. */
  addReport(taskId: string, attempt: number, nodeId: string, event: AgentReportEvent, nowMs: number): Promise<boolean>;
  /** Nodes of the attempt that reported a final event, with that event. */
  finalReports(taskId: string, attempt: number): Promise<Map<string, string>>;
  /** The node acknowledged its part; `started` also moves the task to RUNNING. */
  accept(taskId: string, nodeId: string, started: boolean, nowMs: number): Promise<void>;
  requestCancel(taskId: string): Promise<void>;
  finish(taskId: string, status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', nowMs: number, reason?: string, exitCode?: number): Promise<void>;
  /** Back to QUEUED (placement cleared, queuedAt kept). */
  requeue(taskId: string, reason: string): Promise<void>;
  /** GPU time of one attempt for the quota window (once per attempt). */
  addUsage(u: { taskId: string; attempt: number; tier: Tier; gpus: number; startMs: number; endMs: number }): Promise<void>;
  addRuntime(r: { model: string | null; gpuCount: number; runtimeSec: number; predictedSec: number | null; nowMs: number }): Promise<void>;
  /** Frees the attempt's live GPUs (on one node or all) and gives them back to their nodes; false when none were held. */
  release(taskId: string, attempt: number, nowMs: number, nodeId?: string): Promise<boolean>;
  event(e: NewTaskEvent, nowMs: number): Promise<void>;
}

/** Tasks in PostgreSQL (gpu_tasks, their reports, usage and runtime history), in this namespace. */
export abstract class TaskStore {
  /** Runs fn in one transaction, again from the start after a deadlock or serialization failure. */
  abstract transaction<T>(fn: (tx: TaskTx) => Promise<T>): Promise<T>;
  /** A new QUEUED task and its event, in one transaction. */
  abstract insert(id: string, input: SubmitTaskInput, nowMs: number, predictedSec: number, event: NewTaskEvent): Promise<void>;
  abstract get(taskId: string): Promise<StoredTask | undefined>;
  /** 1-based position of a QUEUED task in its tier's queue, oldest first. */
  abstract queuePosition(t: StoredTask): Promise<number>;
  /** Newest first, after the id `after`. */
  abstract list(q: { userId?: string; status?: TaskStatus; after: string | null; limit: number }): Promise<StoredTask[]>;
  /** Runtimes of the last `limit` finished tasks of this model and gpuCount, newest first. */
  abstract recentRuntimes(model: string, gpuCount: number, limit: number): Promise<number[]>;
  /** Runtime samples after `seq`, in order. */
  abstract runtimesSince(seq: string, limit: number): Promise<RuntimeSample[]>;
  /** QUEUED tasks not being cancelled, oldest first. */
  abstract queued(limit: number): Promise<StoredTask[]>;
  /** SCHEDULED and RUNNING tasks. */
  abstract live(): Promise<StoredTask[]>;
  /** Finished attempts' GPU time that ended after `fromMs` (times in seconds). */
  abstract usageSince(fromMs: number): Promise<UsageRecord[]>;
  /** Bindings past their ack deadline that not every node ACCEPTED. */
  abstract unacknowledged(nowMs: number): Promise<{ id: string; attempt: number }[]>;
  /** Attempts holding live GPUs on a node. */
  abstract holding(nodeId: string): Promise<{ taskId: string; attempt: number }[]>;
}
