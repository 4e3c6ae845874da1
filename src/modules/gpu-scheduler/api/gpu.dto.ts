import { ApiProperty, PickType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsNumber, IsObject, IsString, Max, Min } from 'class-validator';
import { PagingQuery } from '../../../platform/paging/paging-query.dto';
import { MaxDecimalPlaces } from '../../../platform/validation/max-decimal-places';
import type { GangPlacement } from '../domain';
import { TASK_STATUSES } from '../gpu-scheduler.types';
import { IntRange, OptionalProperty, StringLength, StringMatching } from '../../../platform/validation/int-range';

const GANG_PLACEMENTS: GangPlacement[] = ['single-node', 'fewest-nodes'];
/** 1,024 cores and 16 TiB: beyond any one machine, within PostgreSQL's integer. */
const MAX_CPU_MILLI = 1_024_000;
const MAX_MEMORY_MIB = 16 * 1024 * 1024;

const ID = /^[A-Za-z0-9_.@-]{1,128}$/;
// Node ids name a queue (BullMQ refuses ':' in queue names), so they are a little stricter.
const NODE_ID = /^[A-Za-z0-9_.-]{1,100}$/;
/** attempt and exitCode are PostgreSQL integer columns. */
const INT32_MAX = 2_147_483_647;
const GPU_TYPE = /^(\*|[A-Za-z0-9_.-]{1,64}(\|[A-Za-z0-9_.-]{1,64}){0,7})$/;

export class SubmitTaskDto {
  @ApiProperty({ example: 'user-1' })
  @StringMatching(ID, { message: 'userId must be 1-128 of [A-Za-z0-9_.@-]' })
  userId!: string;

  @ApiProperty({ enum: ['vip', 'normal'] })
  @IsIn(['vip', 'normal'])
  tier!: 'vip' | 'normal';

  @ApiProperty({ example: 'A100', description: "a type, alternatives 'A100|H100', or '*'" })
  @StringMatching(GPU_TYPE, { message: "gpuType must be a GPU type name, alternatives joined by '|', or '*'" })
  gpuType!: string;

  @ApiProperty({ minimum: 1, maximum: 64 })
  @IntRange(1, 64)
  gpuCount!: number;

  @ApiProperty({ description: 'memory needed on each GPU', example: 40 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @MaxDecimalPlaces(3) // a PostgreSQL real: 5e-324 would underflow it
  @Min(0)
  @Max(4096)
  gpuMemoryGb!: number;

  @OptionalProperty({ minimum: 1 })
  @IntRange(1, 30 * 86_400)
  estimatedRuntimeSec?: number;

  @OptionalProperty({ example: 'llama-70b' })
  @StringLength(1, 200)
  model?: string;

  @OptionalProperty({
    example: '/usr/bin/python3 serve.py',
    description: 'service/admin keys only (a client key gets 403); agents run it only if its executable is on GPU_AGENT_ALLOWED_COMMANDS, without a shell, never as root',
  })
  @StringLength(1, 4096)
  command?: string;

  @OptionalProperty({ enum: ['fail', 'requeue'], default: 'fail' })
  @IsIn(['fail', 'requeue'])
  onNodeFailure?: 'fail' | 'requeue';

  @OptionalProperty({ minimum: 1, maximum: 1000, example: 250, description: 'share of one GPU in milli (1000 = whole); below 1000 only with gpuCount 1' })
  @IntRange(1, 1000)
  gpuMilli?: number;

  @OptionalProperty({ minimum: 0, maximum: MAX_CPU_MILLI, example: 4000, description: 'CPU for the whole task, milli-cores' })
  @IntRange(0, MAX_CPU_MILLI)
  cpuMilli?: number;

  @OptionalProperty({ minimum: 0, maximum: MAX_MEMORY_MIB, example: 16384, description: 'memory for the whole task, MiB' })
  @IntRange(0, MAX_MEMORY_MIB)
  memoryMib?: number;

  @OptionalProperty({
    enum: GANG_PLACEMENTS,
    description: "multi-GPU tasks: 'single-node' never splits; 'fewest-nodes' may. Default: one node when some node could ever hold the task",
  })
  @IsIn(GANG_PLACEMENTS)
  gangPlacement?: GangPlacement;
}

/** `?userId=&status=&cursor=&limit=` (limit as the platform's paging: 1..500, default 50). */
export class ListTasksQueryDto extends PickType(PagingQuery, ['limit'] as const) {
  @OptionalProperty()
  @StringMatching(ID, { message: 'userId must be 1-128 of [A-Za-z0-9_.@-]' })
  userId?: string;

  @OptionalProperty({ enum: TASK_STATUSES })
  @IsIn(TASK_STATUSES as unknown as string[])
  status?: (typeof TASK_STATUSES)[number];

  @OptionalProperty()
  @StringLength(1, 200)
  cursor?: string;
}

export class RegisterNodeDto {
  @ApiProperty({ example: 'node-1' })
  @StringMatching(NODE_ID, { message: 'id must be 1-100 of [A-Za-z0-9_.-]' })
  id!: string;

  @ApiProperty({ example: 'A100' })
  @StringMatching(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'gpuType must be 1-64 of [A-Za-z0-9_.-]' })
  gpuType!: string;

  @ApiProperty({ minimum: 1, maximum: 1024 })
  @IntRange(1, 1024)
  gpuCount!: number;

  @ApiProperty({ example: 80 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @MaxDecimalPlaces(3) // a PostgreSQL real: 5e-324 would underflow it
  @Min(0)
  @Max(4096)
  gpuMemoryGb!: number;

  @OptionalProperty({ example: { zone: 'a' } })
  @IsObject()
  labels?: Record<string, string>;

  @OptionalProperty({ description: 'served by the built-in simulated agent' })
  @IsBoolean()
  simulated?: boolean;

  @OptionalProperty({ minimum: 0, maximum: MAX_CPU_MILLI, example: 64000, description: 'CPU tasks may use, milli-cores; absent = not accounted' })
  @IntRange(0, MAX_CPU_MILLI)
  cpuMilli?: number;

  @OptionalProperty({ minimum: 0, maximum: MAX_MEMORY_MIB, example: 524288, description: 'memory tasks may use, MiB; absent = not accounted' })
  @IntRange(0, MAX_MEMORY_MIB)
  memoryMib?: number;
}

export class HeartbeatDto {
  @OptionalProperty({ type: [String] })
  @IsArray()
  @ArrayMaxSize(1024)
  @IsString({ each: true })
  runningTaskIds?: string[];

  @OptionalProperty({ type: [Number] })
  @IsArray()
  @ArrayMaxSize(1024)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0, { each: true })
  @Max(100, { each: true })
  gpuUtilization?: number[];
}

export class PatchNodeDto {
  @ApiProperty({ enum: ['ACTIVE', 'DRAINING', 'MAINTENANCE'] })
  @IsIn(['ACTIVE', 'DRAINING', 'MAINTENANCE'])
  status!: 'ACTIVE' | 'DRAINING' | 'MAINTENANCE';
}

export class ReportDto {
  @ApiProperty()
  @StringMatching(NODE_ID, { message: 'nodeId must be 1-100 of [A-Za-z0-9_.-]' })
  nodeId!: string;

  @ApiProperty({ minimum: 1, maximum: INT32_MAX })
  @IntRange(1, INT32_MAX)
  attempt!: number;

  @ApiProperty({ enum: ['ACCEPTED', 'STARTED', 'SUCCEEDED', 'FAILED', 'CANCELLED'] })
  @IsIn(['ACCEPTED', 'STARTED', 'SUCCEEDED', 'FAILED', 'CANCELLED'])
  event!: 'ACCEPTED' | 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

  @OptionalProperty({ minimum: -INT32_MAX - 1, maximum: INT32_MAX })
  @IntRange(-INT32_MAX - 1, INT32_MAX)
  exitCode?: number;

  @OptionalProperty()
  @StringLength(0, 2000)
  reason?: string;
}
