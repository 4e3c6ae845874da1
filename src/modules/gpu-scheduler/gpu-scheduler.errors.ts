import { AppError } from '../../platform/errors/app-error';

/** Stable codes of the gpu-scheduler module; the platform filter maps the kind to an HTTP status. */
export enum GpuCode {
  // not_found / invalid / unprocessable / conflict / forbidden, in that order
  TaskNotFound = 'task_not_found', NodeNotFound = 'node_not_found',
  InvalidCursor = 'invalid_cursor', InvalidLabels = 'invalid_labels', InvalidShare = 'invalid_share',
  Unsatisfiable = 'unsatisfiable_request',
  CapacityInUse = 'capacity_in_use', TaskFinished = 'task_finished',
  CommandForbidden = 'command_forbidden',
}

export class GpuError extends AppError<GpuCode> {}
