import { Body, Param } from '@nestjs/common';
import { ApiController, Endpoint, linksTo } from '../../../platform/openapi';
import { ClusterService } from '../application/cluster.service';
import { NodeService } from '../application/node.service';
import { HeartbeatDto, PatchNodeDto, RegisterNodeDto } from './gpu.dto';
import { ClusterSnapshot, NodeView } from './gpu.responses';

const NODE_EXAMPLE = { id: 'node-1', gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, labels: { zone: 'a' }, simulated: false, status: 'ACTIVE', freeGpuIndices: [0, 1, 2, 3, 4, 5, 6, 7], gpuUsedMilli: [0, 0, 0, 0, 0, 0, 0, 0], cpuMilli: 64000, memoryMib: 524288, cpuUsedMilli: 0, memoryUsedMib: 0, lastHeartbeatAt: '2026-11-30T13:03:53.975Z', registeredAt: '2026-11-30T13:03:53.914Z' };

@ApiController('gpu-scheduler', 'api/v1/gpu')
export class GpuNodesController {
  constructor(
    private readonly nodes: NodeService,
    private readonly cluster: ClusterService,
  ) {}

  /** Idempotent by id: re-registering returns the node (and revives an UNHEALTHY one). */
  @Endpoint('POST nodes', 'service', 'Register a GPU node', {
    requestExample: { id: 'node-1', gpuType: 'A100', gpuCount: 8, gpuMemoryGb: 80, labels: { zone: 'a' }, simulated: true, cpuMilli: 64000, memoryMib: 524288 },
    description:
      'Idempotent by id: registering again returns the node (and revives an UNHEALTHY one). `simulated` nodes are served by the built-in agent. ' +
      '`cpuMilli`/`memoryMib` declare what tasks may use (absent: not accounted).',
    errorNotes: { 409: 'running tasks hold more CPU or memory than the new capacity (`capacity_in_use`)' },
    responses: [{
      status: 200, description: 'the node', type: NodeView, example: NODE_EXAMPLE,
      links: linksTo({ id: '$response.body#/id' }, { GetNode: 'GpuNodesController_get', Heartbeat: 'GpuNodesController_heartbeat', PatchNode: 'GpuNodesController_patch' }),
    }],
  })
  register(@Body() dto: RegisterNodeDto) {
    return this.nodes.register(dto);
  }

  @Endpoint('GET nodes/:id', 'service', 'Read a GPU node', {
    description: 'Status, free GPU indices and last heartbeat.',
    responses: [{ status: 200, description: 'the node', type: NodeView, example: NODE_EXAMPLE }],
  })
  get(@Param('id') id: string) {
    return this.nodes.get(id);
  }

  @Endpoint('POST nodes/:id/heartbeat', 'service', 'Node heartbeat', {
    requestExample: { runningTaskIds: [], gpuUtilization: [12.5, 0, 0, 0, 0, 0, 0, 0] },
    description: 'The agent is alive; optionally the tasks it runs and per-GPU utilization. A node silent past the timeout becomes UNHEALTHY.',
    responses: [{ status: 200, description: 'the node', type: NodeView, example: NODE_EXAMPLE }],
  })
  heartbeat(@Param('id') id: string, @Body() dto: HeartbeatDto) {
    return this.nodes.heartbeat(id, dto ?? {});
  }

  @Endpoint('PATCH nodes/:id', 'service', 'Drain or maintain a node', {
    requestExample: { status: 'DRAINING' },
    description: 'ACTIVE takes new tasks; DRAINING lets running tasks finish and takes no new ones; MAINTENANCE takes none.',
    responses: [{ status: 200, description: 'the node', type: NodeView, example: { ...NODE_EXAMPLE, status: 'DRAINING' } }],
  })
  patch(@Param('id') id: string, @Body() dto: PatchNodeDto) {
    return this.nodes.setStatus(id, dto.status);
  }

  @Endpoint('GET cluster', 'client', 'Cluster snapshot', {
    description: 'GPUs total, free and used; per node and GPU type; queue lengths and waits; VIP/normal shares; runtime prediction error.',
    responses: [{
      status: 200, description: 'the snapshot', type: ClusterSnapshot,
      example: {
        at: '2026-11-30T13:03:54.135Z', gpus: { total: 8, free: 7, used: 1, utilization: 0.125 }, nodes: [], gpuTypes: {},
        queues: { vip: { length: 0, oldestWaitSec: 0 }, normal: { length: 0, oldestWaitSec: 0 }, byGpuType: {} },
        quota: { windowSec: 3600, targetVipShare: 0.8, vipGpuHours: 0, normalGpuHours: 0, vipShare: 0, normalShare: 0 },
        runtimePrediction: { samples: 0, meanAbsErrorSec: 0, meanAbsPctError: 0, underPredictedFraction: 0 },
      },
    }],
  })
  snapshot() {
    return this.cluster.snapshot();
  }
}
