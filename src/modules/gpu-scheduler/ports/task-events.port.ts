import type { AppConfig } from '../../../config/app-config';
import { topicName } from '../../../platform/messaging/topics';
import type { OutboxMessage } from '../../../platform/outbox/outbox';
import type { Allocation } from '../domain';
import type { TaskStatus } from '../gpu-scheduler.types';

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
  placement: Allocation[];
  reason?: string;
  at: string;
}

/** What a service hands a store to record with its change; the store adds eventId and at. */
export type NewTaskEvent = Omit<TaskEvent, 'eventId' | 'at'>;

/** The platform outbox message of an event: id = eventId, key = taskId (a task's events stay in order). */
export function taskEventMessage(config: Pick<AppConfig, 'NAMESPACE'>, e: NewTaskEvent, nowMs: number): OutboxMessage {
  const eventId = `${e.taskId}:${e.attempt}:${e.type}`;
  const value = JSON.stringify({ eventId, ...e, at: new Date(nowMs).toISOString() } satisfies TaskEvent);
  return { id: eventId, topic: topicName(config, GPU_TASKS_TOPIC), key: e.taskId, value };
}
