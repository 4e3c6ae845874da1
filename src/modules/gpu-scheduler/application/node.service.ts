import { Injectable } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { CANCEL_JOB, HeartbeatBody, NodeRegistration, nodeQueueName } from '../agent-protocol';
import { GpuCode, GpuError } from '../gpu-scheduler.errors';
import { NodeView } from '../gpu-scheduler.types';
import { toNodeView } from '../ports/gpu-rows';
import { NodeStore } from '../ports/node-store.port';
import { CycleTrigger } from './cycle-trigger';

type NodeListener = (node: NodeView) => void;

/** Node registry: (re-)registration, heartbeats, admin status changes. */
@Injectable()
export class NodeService {
  private readonly listeners: NodeListener[] = [];

  constructor(
    private readonly store: NodeStore,
    private readonly clock: Clock,
    private readonly queue: JobQueue,
    private readonly trigger: CycleTrigger,
  ) {}

  /** In-process hook for every registration in this process (e.g. to start a simulated agent). */
  onRegistered(fn: NodeListener): void {
    this.listeners.push(fn);
  }

  /**
   * Idempotent by id. Re-registering is how an agent comes back: an UNHEALTHY node turns ACTIVE
   * (an admin's DRAINING/MAINTENANCE is kept), and its free list is rebuilt as every GPU not held
   * by a live allocation, so a changed gpuCount is picked up too.
   */
  async register(input: NodeRegistration): Promise<NodeView> {
    const labels = input.labels ?? {};
    if (Object.keys(labels).length > 64 || Object.entries(labels).some(([k, v]) => typeof v !== 'string' || k.length > 128 || v.length > 256)) {
      throw new GpuError('invalid', GpuCode.InvalidLabels, 'labels must be up to 64 string values', {
        errors: [{ field: 'labels', message: 'labels must map keys (<=128 chars) to strings (<=256 chars)' }],
      });
    }
    const view = toNodeView(await this.store.register(input, labels, this.clock.now()));
    for (const l of this.listeners) l(view);
    this.trigger.request();
    return view;
  }

  /**
   * Keeps the node healthy; an UNHEALTHY node that heartbeats again is back (its tasks were already
   * failed or requeued). Tasks the agent says it runs but the scheduler no longer places there
   * (failed over, rolled back, finished) get a CANCEL job, so orphans do not hold real GPUs.
   */
  async heartbeat(id: string, body: HeartbeatBody): Promise<NodeView> {
    const now = this.clock.now();
    const beat = await this.store.heartbeat(id, body.gpuUtilization, now);
    if (!beat) throw new GpuError('not_found', GpuCode.NodeNotFound, `node ${id} not found`);
    if (beat.wasUnhealthy) this.trigger.request();
    if (body.runningTaskIds?.length) await this.cancelOrphans(id, body.runningTaskIds);
    if (body.runningTaskIds && (await this.store.releaseStopped(id, body.runningTaskIds, now)) > 0) this.trigger.request();
    return toNodeView(beat.node);
  }

  private async cancelOrphans(nodeId: string, taskIds: string[]): Promise<void> {
    for (const o of await this.store.orphans(nodeId, taskIds)) {
      await this.queue.add(nodeQueueName(nodeId), CANCEL_JOB, { taskId: o.id, attempt: o.attempt }, { jobId: `orphan-${o.id}-${o.attempt}` });
    }
  }

  async setStatus(id: string, status: 'ACTIVE' | 'DRAINING' | 'MAINTENANCE'): Promise<NodeView> {
    const row = await this.store.setStatus(id, status);
    if (!row) throw new GpuError('not_found', GpuCode.NodeNotFound, `node ${id} not found`);
    this.trigger.request();
    return toNodeView(row);
  }

  async get(id: string): Promise<NodeView> {
    const row = await this.store.get(id);
    if (!row) throw new GpuError('not_found', GpuCode.NodeNotFound, `node ${id} not found`);
    return toNodeView(row);
  }

  async list(): Promise<NodeView[]> {
    return (await this.store.list()).map(toNodeView);
  }
}
