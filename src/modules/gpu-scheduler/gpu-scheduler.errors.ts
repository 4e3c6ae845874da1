import { AppError, ErrorKind } from '../../platform/errors/app-error';

/** Stable codes of the gpu-scheduler module; the platform filter maps the kind to an HTTP status. */
export enum GpuCode {
  TaskNotFound = 'task_not_found',
  NodeNotFound = 'node_not_found',
  Unsatisfiable = 'unsatisfiable_request',
  InvalidCursor = 'invalid_cursor',
  InvalidLabels = 'invalid_labels',
  InvalidShare = 'invalid_share',
  CapacityInUse = 'capacity_in_use',
  IdempotencyKeyRequired = 'idempotency_key_required',
  IdempotencyKeyReused = 'idempotency_key_reused',
  RequestInProgress = 'request_in_progress',
  TaskFinished = 'task_finished',
}

export class GpuError extends AppError {
  constructor(kind: ErrorKind, code: GpuCode, message: string, extra: Record<string, unknown> = {}) {
    super(kind, code, message, extra);
  }
}

export const taskNotFound = (id: string) => new GpuError('not_found', GpuCode.TaskNotFound, `task ${id} not found`);
export const nodeNotFound = (id: string) => new GpuError('not_found', GpuCode.NodeNotFound, `node ${id} not found`);
