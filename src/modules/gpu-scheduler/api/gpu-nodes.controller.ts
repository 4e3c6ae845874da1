import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../../platform/auth/roles.decorator';
import { ClusterService } from '../service/cluster.service';
import { NodeService } from '../service/node.service';
import { HeartbeatDto, PatchNodeDto, RegisterNodeDto } from './gpu.dto';

@ApiTags('gpu-scheduler')
@Controller('api/v1/gpu')
export class GpuNodesController {
  constructor(
    private readonly nodes: NodeService,
    private readonly cluster: ClusterService,
  ) {}

  /** Idempotent by id: re-registering returns the node (and revives an UNHEALTHY one). */
  @RequireRole('service')
  @HttpCode(200)
  @Post('nodes')
  register(@Body() dto: RegisterNodeDto) {
    return this.nodes.register(dto);
  }

  @RequireRole('service')
  @Get('nodes/:id')
  get(@Param('id') id: string) {
    return this.nodes.get(id);
  }

  @RequireRole('service')
  @HttpCode(200)
  @Post('nodes/:id/heartbeat')
  heartbeat(@Param('id') id: string, @Body() dto: HeartbeatDto) {
    return this.nodes.heartbeat(id, dto ?? {});
  }

  @RequireRole('service')
  @Patch('nodes/:id')
  patch(@Param('id') id: string, @Body() dto: PatchNodeDto) {
    return this.nodes.setStatus(id, dto.status);
  }

  @RequireRole('client')
  @Get('cluster')
  snapshot() {
    return this.cluster.snapshot();
  }
}
