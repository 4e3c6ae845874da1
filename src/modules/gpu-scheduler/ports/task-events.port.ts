import type { PlacementView, TaskStatus } from '../gpu-scheduler.types';

export const GPU_TASKS_TOPIC = 'gpu.tasks';

/** One lifecycle event on `gpu.tasks`, keyed by taskId (so a task's events stay in order). */
export interface TaskEvent {
  /** `${taskId}:${attempt}:${type}`: consumers dedupe on it (delivery is at-least-once). */
  eventId: string;
  type: 'QUEUED' | 'SCHEDULED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REQUEUED';
  taskId: string;
  attempt: number;
  status: TaskStatus;
  userId: string;
  tier: string;
  placement: PlacementView[];
  reason?: string;
  at: string;
}

/** What a service hands a store to record with its change; the store adds eventId and at. */
export type NewTaskEvent = Omit<TaskEvent, 'eventId' | 'at'>;

/**
 * The relay of the `gpu.tasks` outbox: the stores write events in the transaction of the change they
 * report; `flush` publishes what committed (after a commit, and periodically).
 */
export abstract class TaskEventRelay {
  abstract flush(): Promise<void>;
}
