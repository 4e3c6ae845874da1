import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { NodeView } from '../gpu-scheduler.types';
import { NodeService } from '../application/node.service';
import { simulatedInventory } from './gpu-discovery';
import { NodeAgent } from './node-agent';
import { HttpSchedulerClient } from './scheduler-client';
import { agentApiKey, ownBaseUrl } from './self-link';
import { CLAIM_SIMULATED_NODE, RELEASE_SIMULATED_NODE } from './simulated-host-lease';
import { SimulatedRunner } from './simulated-runner';

/**
 * Serves the nodes registered with `"simulated": true` from a worker process. Each is an ordinary
 * NodeAgent — the same node queue, ACCEPTED before the ack deadline, heartbeats, reports — with
 * two differences only: tasks are simulated runs (predictedRuntimeSec / GPU_AGENT_TIME_SCALE,
 * never the command: the API process must not run users' commands), and it does not register
 * (POST /gpu/nodes did).
 *
 * Its reports and heartbeats go over HTTP to this process's own server, with a service key, exactly
 * as a remote agent's would: authentication, validation and the controllers are exercised too, so
 * the simulated node is a faithful stand-in (the price is a loopback request per report).
 *
 * Which worker serves a node: the holder of a KV lease (simulated-host-lease.ts), so with several
 * workers each node has exactly one host, and another worker takes over when that one dies. The
 * node list is re-read every heartbeat period (a node registered by an api-only process is found
 * there), and at once on a registration in this process (NodeService.onRegistered).
 */
@Injectable()
export class SimulatedAgents implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('gpu-simulated-agents');
  private readonly hosted = new Map<string, { agent: NodeAgent; gpuCount: number }>();
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private nodes?: NodeService;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly config: GpuSchedulerConfig,
    private readonly queue: JobQueue,
    private readonly kv: KeyValueStore,
    private readonly http: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.hasRole('worker')) return;
    this.nodes = this.moduleRef.get(NodeService, { strict: false });
    this.nodes.onRegistered((n) => {
      if (n.simulated) this.kick();
    });
    this.timer = setInterval(() => this.kick(), this.config.GPU_AGENT_HEARTBEAT_MS);
    this.timer.unref();
    this.kick();
  }

  private get leaseTtlMs(): number {
    return Math.max(3 * this.config.GPU_AGENT_HEARTBEAT_MS, 1_000);
  }

  private leaseKey(nodeId: string): string {
    return `${this.config.NAMESPACE}:gpu:simulated-host:${nodeId}`;
  }

  /** Runs a reconcile now, or right after the one in progress (never two at once). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reconcile()
      .catch((e: unknown) => this.log.warn(`reconcile failed: ${(e as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async reconcile(): Promise<void> {
    const wanted = (await this.nodes!.list()).filter((n) => n.simulated);
    const ids = new Set(wanted.map((n) => n.id));
    for (const node of wanted) {
      if (this.stopped) return;
      const mine = (await this.kv.runScript(CLAIM_SIMULATED_NODE, [this.leaseKey(node.id)], [this.holder, this.leaseTtlMs])) === 1;
      const current = this.hosted.get(node.id);
      if (current && (!mine || current.gpuCount !== node.gpuCount)) {
        // Lost the lease (another worker serves it now) or re-registered with another size.
        this.hosted.delete(node.id);
        await current.agent.stop({ terminateRunning: true, graceMs: 0, waitMs: 2_000 });
      }
      if (mine && !this.hosted.has(node.id)) this.host(node);
    }
    for (const [id, h] of this.hosted) {
      if (ids.has(id)) continue;
      this.hosted.delete(id);
      await h.agent.stop({ terminateRunning: true, graceMs: 0, waitMs: 2_000 });
      await this.kv.runScript(RELEASE_SIMULATED_NODE, [this.leaseKey(id)], [this.holder]);
    }
  }

  private host(node: NodeView): void {
    let agent!: NodeAgent;
    const client = new HttpSchedulerClient({
      baseUrl: () => ownBaseUrl(this.http, this.config),
      apiKey: agentApiKey(this.config),
      stopped: () => agent.isStopped,
    });
    agent = new NodeAgent({
      nodeId: node.id,
      inventory: simulatedInventory(node.gpuType, node.gpuCount, node.gpuMemoryGb),
      client,
      queue: this.queue,
      executor: new SimulatedRunner(this.config.GPU_AGENT_TIME_SCALE),
      heartbeatMs: this.config.GPU_AGENT_HEARTBEAT_MS,
      register: false,
      log: this.log,
    });
    this.hosted.set(node.id, { agent, gpuCount: node.gpuCount });
    void agent.start().catch((e: unknown) => this.log.warn(`simulated node ${node.id}: ${(e as Error).message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    const all = [...this.hosted.entries()];
    this.hosted.clear();
    await Promise.all(
      all.map(async ([id, h]) => {
        await h.agent.stop({ terminateRunning: true, graceMs: 0, waitMs: 2_000 });
        await this.kv.runScript(RELEASE_SIMULATED_NODE, [this.leaseKey(id)], [this.holder]).catch(() => undefined);
      }),
    );
  }
}
