import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';
import { JobQueue } from '../../../platform/queue/job-queue.port';
import { parseAllowList, resolveRunAs } from './command-policy';
import { discoverGpus, sampleUtilization } from './gpu-discovery';
import { NodeAgent } from './node-agent';
import { CommandOrSimulatedExecutor, ProcessRunner } from './process-runner';
import { HttpSchedulerClient } from './scheduler-client';
import { agentApiKey, agentNodeId, ownBaseUrl } from './self-link';
import { SimulatedRunner } from './simulated-runner';
import { TaskPidFiles } from './task-pid-files';

/**
 * The `agent` role: this process is one GPU node. It discovers its GPUs (nvidia-smi, or the
 * simulated spec), registers with the scheduler over HTTP, heartbeats, and runs what arrives on its
 * node queue (commands as child processes; tasks without one as simulated runs).
 */
@Injectable()
export class AgentService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('gpu-agent');
  private agent?: NodeAgent;

  constructor(
    private readonly config: GpuSchedulerConfig,
    private readonly queue: JobQueue,
    private readonly http: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.hasRole('agent')) return;
    const c = this.config;
    // A machine that cannot say what it offers must not start (a misconfigured GPU box, no spec).
    const inventory = await discoverGpus({ simulatedSpec: c.GPU_AGENT_SIMULATED_GPUS, gpuTypeOverride: c.GPU_AGENT_GPU_TYPE });
    const client = new HttpSchedulerClient({
      baseUrl: () => c.GPU_AGENT_SCHEDULER_URL || ownBaseUrl(this.http, c),
      apiKey: agentApiKey(c),
      stopped: () => this.agent?.isStopped ?? false,
    });
    const nodeId = agentNodeId(c);
    // Per namespace and node id, so several agents on one machine keep apart.
    const pidFiles = new TaskPidFiles(join(tmpdir(), `tetrad-gpu-agent-${c.NAMESPACE}-${nodeId}`));
    const leftovers = pidFiles.reapLeftovers();
    if (leftovers.length > 0) {
      this.log.warn(`killed ${leftovers.length} task process group(s) left by a previous run: ${leftovers.map((r) => `${r.taskId}#${r.attempt}`).join(', ')}`);
    }
    // Misconfiguration (a relative entry, an unknown user, root) stops the agent here, before it takes work.
    const allowed = parseAllowList(c.GPU_AGENT_ALLOWED_COMMANDS);
    const policy = { allowed, runAs: resolveRunAs(c.GPU_AGENT_RUN_AS_USER, process.getuid?.() ?? -1, allowed.length > 0) };
    if (allowed.length === 0) this.log.log('GPU_AGENT_ALLOWED_COMMANDS is empty: tasks with a command fail; tasks without one run simulated');
    const executor = new CommandOrSimulatedExecutor(
      new ProcessRunner({ policy, killGraceMs: c.GPU_AGENT_KILL_GRACE_MS, log: this.log, pidFiles }),
      new SimulatedRunner(c.GPU_AGENT_TIME_SCALE),
    );
    this.agent = new NodeAgent({
      nodeId,
      inventory,
      client,
      queue: this.queue,
      executor,
      heartbeatMs: c.GPU_AGENT_HEARTBEAT_MS,
      register: true,
      labels: { host: hostname().slice(0, 256), gpus: inventory.simulated ? 'simulated' : 'nvidia-smi' },
      utilization: inventory.simulated ? undefined : () => sampleUtilization(inventory),
      log: this.log,
    });
    // Not awaited: the scheduler may be this very process, which listens only after bootstrap.
    void this.agent.start().catch((e: unknown) => this.log.error(`agent start failed: ${(e as Error).message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Within the process's shutdown budget: stop the tasks and say so, rather than leave the
    // scheduler to find out from missed heartbeats.
    const budget = this.config.SHUTDOWN_TIMEOUT_MS;
    await this.agent?.stop({
      terminateRunning: true,
      graceMs: Math.min(this.config.GPU_AGENT_KILL_GRACE_MS, Math.floor(budget / 3)),
      waitMs: Math.floor(budget / 2),
    });
  }
}
