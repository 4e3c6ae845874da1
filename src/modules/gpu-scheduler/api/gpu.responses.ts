// Response bodies of the GPU scheduler API as the OpenAPI document shows them (documentation only:
// the services return plain objects of these shapes).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TASK_STATUSES } from '../gpu-scheduler.types';

const NODE_STATUSES = ['ACTIVE', 'DRAINING', 'MAINTENANCE', 'UNHEALTHY'];
const LOOSE = { type: 'object', additionalProperties: true } as const;

export class TaskAccepted {
  @ApiProperty() taskId!: string;
  @ApiProperty({ enum: TASK_STATUSES }) status!: string;
}

class Placement {
  @ApiProperty() nodeId!: string;
  @ApiProperty({ type: [Number] }) gpuIndices!: number[];
  @ApiPropertyOptional({ type: 'integer', description: 'milli held on each GPU, present for a share of a GPU' }) gpuMilli?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'CPU taken on this node (milli-cores), when asked for' }) cpuMilli?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'memory taken on this node (MiB), when asked for' }) memoryMib?: number;
}

export class TaskView {
  @ApiProperty() taskId!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ['vip', 'normal'] }) tier!: string;
  @ApiProperty() gpuType!: string;
  @ApiProperty({ type: 'integer' }) gpuCount!: number;
  @ApiProperty() gpuMemoryGb!: number;
  @ApiProperty({ type: 'integer', nullable: true }) estimatedRuntimeSec!: number | null;
  @ApiProperty({ type: 'string', nullable: true }) model!: string | null;
  @ApiProperty({ type: 'string', nullable: true }) command!: string | null;
  @ApiProperty({ enum: ['fail', 'requeue'] }) onNodeFailure!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'share of one GPU in milli; null = whole GPUs' }) gpuMilli!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) cpuMilli!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) memoryMib!: number | null;
  // null in the enum too: a nullable enum must list it (OpenAPI 3.0)
  @ApiProperty({ type: 'string', enum: ['single-node', 'fewest-nodes', null], nullable: true }) gangPlacement!: string | null;
  @ApiProperty({ enum: TASK_STATUSES }) status!: string;
  @ApiProperty({ type: 'integer' }) attempt!: number;
  @ApiProperty({ type: [Placement] }) placement!: Placement[];
  @ApiProperty() cancelRequested!: boolean;
  @ApiProperty() backfilled!: boolean;
  @ApiProperty({ format: 'date-time' }) queuedAt!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) scheduledAt!: string | null;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: 'number', nullable: true }) predictedRuntimeSec!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: '1-based place in its tier\'s queue while QUEUED' }) queuePosition!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) exitCode!: number | null;
  @ApiProperty({ type: 'string', nullable: true }) reason!: string | null;
}

export class TaskPage {
  @ApiProperty({ type: [TaskView] }) items!: TaskView[];
  @ApiProperty({ type: 'string', nullable: true, description: 'pass as `cursor` for the next page' }) nextCursor!: string | null;
}

export class ReportResult {
  @ApiProperty() taskId!: string;
  @ApiProperty({ enum: TASK_STATUSES }) status!: string;
  @ApiProperty({ type: 'integer' }) attempt!: number;
  @ApiPropertyOptional({ enum: ['stale_attempt', 'duplicate', 'not_placed', 'not_applicable'], description: 'why nothing changed' }) ignored?: string;
}

export class NodeView {
  @ApiProperty() id!: string;
  @ApiProperty() gpuType!: string;
  @ApiProperty({ type: 'integer' }) gpuCount!: number;
  @ApiProperty() gpuMemoryGb!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty() simulated!: boolean;
  @ApiProperty({ enum: NODE_STATUSES }) status!: string;
  @ApiProperty({ type: [Number], description: 'GPUs no task holds any share of' }) freeGpuIndices!: number[];
  @ApiProperty({ type: [Number], description: 'milli (of 1000) held on each GPU, by index' }) gpuUsedMilli!: number[];
  @ApiProperty({ type: 'integer', nullable: true, description: 'CPU capacity (milli-cores); null = not accounted' }) cpuMilli!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'memory capacity (MiB); null = not accounted' }) memoryMib!: number | null;
  @ApiProperty({ type: 'integer' }) cpuUsedMilli!: number;
  @ApiProperty({ type: 'integer' }) memoryUsedMib!: number;
  @ApiProperty({ format: 'date-time' }) lastHeartbeatAt!: string;
  @ApiProperty({ format: 'date-time' }) registeredAt!: string;
}

class GpuTotals {
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ type: 'integer' }) free!: number;
  @ApiProperty({ type: 'integer' }) used!: number;
  @ApiProperty() utilization!: number;
}

export class ClusterSnapshot {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: GpuTotals }) gpus!: GpuTotals;
  @ApiProperty({ type: 'array', items: LOOSE, description: 'per node: status, capacity, free GPU indices, utilization' }) nodes!: object[];
  @ApiProperty({ ...LOOSE, description: 'capacity per GPU type' }) gpuTypes!: object;
  @ApiProperty({ ...LOOSE, description: 'queue length and oldest wait per tier and GPU type' }) queues!: object;
  @ApiProperty({ ...LOOSE, description: 'VIP / normal GPU-hour shares over the quota window' }) quota!: object;
  @ApiProperty({ ...LOOSE, description: 'how close runtime predictions were' }) runtimePrediction!: object;
}
