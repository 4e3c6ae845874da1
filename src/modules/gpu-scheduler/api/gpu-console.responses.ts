// Response bodies of the GPU console views as the OpenAPI document shows them (documentation only).
import { ApiProperty } from '@nestjs/swagger';
import { TASK_STATUSES } from '../gpu-scheduler.types';

export class GridNodeView {
  @ApiProperty() id!: string;
  @ApiProperty() gpuType!: string;
  @ApiProperty({ enum: ['ACTIVE', 'DRAINING', 'MAINTENANCE', 'UNHEALTHY'] }) status!: string;
  @ApiProperty({ type: 'integer' }) gpuCount!: number;
  @ApiProperty({ type: [Number] }) freeGpuIndices!: number[];
  @ApiProperty({ type: 'array', items: { type: 'string', nullable: true }, description: 'tasks[i]: the task holding GPU i, or null' })
  tasks!: (string | null)[];
}

export class GridView {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: [GridNodeView] }) nodes!: GridNodeView[];
}

export class RecentTaskView {
  @ApiProperty() taskId!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ['vip', 'normal'] }) tier!: string;
  @ApiProperty({ enum: TASK_STATUSES }) status!: string;
  @ApiProperty({ type: 'integer' }) gpuCount!: number;
  @ApiProperty({ format: 'date-time', description: 'when the task reached this status' }) at!: string;
  @ApiProperty({ type: 'string', nullable: true }) reason!: string | null;
}

export class RecentTasksView {
  @ApiProperty({ type: [RecentTaskView] }) items!: RecentTaskView[];
}
