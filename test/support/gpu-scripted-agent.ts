import type { JobQueue, QueueWorker } from '../../src/platform/queue/job-queue.port';
import { AgentReport, CANCEL_JOB, CancelMessage, DISPATCH_JOB, DispatchMessage, HeartbeatBody, nodeQueueName } from '../../src/modules/gpu-scheduler';
import { http, KEYS } from './app';

export type AgentMode = 'run' | 'silent';

export interface AgentTransport {
  report(taskId: string, body: AgentReport): Promise<void>;
  heartbeat(nodeId: string, body: HeartbeatBody): Promise<void>;
}

/**
 * The agents' side of the wire contract over HTTP with the service key: a report answered with
 * anything but 200 is an error (the agent keeps it in `errors`). `base` is asked on every call, so a
 * test may point the agent at another app, or at a different one each time.
 */
export function httpAgentTransport(base: () => string): AgentTransport {
  return {
    report: async (taskId, body) => {
      const r = await http(base(), 'POST', `/api/v1/gpu/tasks/${taskId}/report`, { key: KEYS.service, body });
      if (r.status !== 200) throw new Error(`report ${r.status}: ${JSON.stringify(r.body)}`);
    },
    heartbeat: async (nodeId, body) => {
      await http(base(), 'POST', `/api/v1/gpu/nodes/${nodeId}/heartbeat`, { key: KEYS.service, body });
    },
  };
}

/**
 * A scripted stand-in for node agents in tests and benchmarks, speaking the real contract: it
 * consumes the node queues and reports through the transport you give it (HTTP in e2e tests). In
 * `run` mode it ACCEPTs and STARTs every dispatch and then waits for the test to `finish` the task;
 * in `silent` mode it takes dispatches and says nothing (to exercise ack timeouts). Real agents
 * (nvidia-smi, child processes, simulated runs) live in src/modules/gpu-scheduler/agent.
 */
export class ScriptedAgent {
  readonly dispatches: DispatchMessage[] = [];
  readonly cancels: (CancelMessage & { nodeId: string })[] = [];
  /** taskId → the dispatch (per node) this agent is running. */
  readonly running = new Map<string, DispatchMessage[]>();
  private readonly workers = new Map<string, QueueWorker>();
  private readonly modes = new Map<string, AgentMode>();
  private readonly beating = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  readonly errors: Error[] = [];

  constructor(
    private readonly queue: JobQueue,
    private readonly transport: AgentTransport,
    heartbeatMs = 200,
  ) {
    this.timer = setInterval(() => void this.beat(), heartbeatMs);
    this.timer.unref();
  }

  attach(nodeId: string, mode: AgentMode = 'run', heartbeat = true): void {
    this.modes.set(nodeId, mode);
    if (heartbeat) this.beating.add(nodeId);
    if (this.workers.has(nodeId)) return;
    this.workers.set(
      nodeId,
      this.queue.process<DispatchMessage | CancelMessage>(
        nodeQueueName(nodeId),
        async (job) => {
          if (job.name === DISPATCH_JOB) await this.onDispatch(job.data as DispatchMessage);
          else if (job.name === CANCEL_JOB) await this.onCancel(nodeId, job.data as CancelMessage);
        },
        { concurrency: 8 },
      ),
    );
  }

  setMode(nodeId: string, mode: AgentMode): void {
    this.modes.set(nodeId, mode);
  }

  /** Stops heartbeating for a node, as if its agent died (its queue is left alone). */
  kill(nodeId: string): void {
    this.beating.delete(nodeId);
    this.modes.set(nodeId, 'silent');
  }

  private async onDispatch(d: DispatchMessage): Promise<void> {
    this.dispatches.push(d);
    if (this.modes.get(d.nodeId) !== 'run') return;
    const list = this.running.get(d.taskId)?.filter((x) => x.attempt === d.attempt) ?? [];
    list.push(d);
    this.running.set(d.taskId, list);
    await this.send(d.taskId, { nodeId: d.nodeId, attempt: d.attempt, event: 'ACCEPTED' });
    await this.send(d.taskId, { nodeId: d.nodeId, attempt: d.attempt, event: 'STARTED' });
  }

  private async onCancel(nodeId: string, c: CancelMessage): Promise<void> {
    this.cancels.push({ ...c, nodeId });
    const mine = this.running.get(c.taskId)?.find((d) => d.nodeId === nodeId);
    if (!mine || this.modes.get(nodeId) !== 'run') return;
    this.drop(c.taskId, nodeId);
    await this.send(c.taskId, { nodeId, attempt: mine.attempt, event: 'CANCELLED' });
  }

  /** Ends a running task on every node it runs on with the given event. */
  async finish(taskId: string, event: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED', exitCode = event === 'SUCCEEDED' ? 0 : 1): Promise<void> {
    const list = this.running.get(taskId) ?? [];
    this.running.delete(taskId);
    for (const d of list) await this.send(taskId, { nodeId: d.nodeId, attempt: d.attempt, event, exitCode });
  }

  private drop(taskId: string, nodeId: string) {
    const rest = (this.running.get(taskId) ?? []).filter((d) => d.nodeId !== nodeId);
    if (rest.length) this.running.set(taskId, rest);
    else this.running.delete(taskId);
  }

  private async send(taskId: string, body: AgentReport): Promise<void> {
    try {
      await this.transport.report(taskId, body);
    } catch (e) {
      this.errors.push(e as Error);
    }
  }

  private async beat(): Promise<void> {
    for (const nodeId of this.beating) {
      try {
        await this.transport.heartbeat(nodeId, {});
      } catch (e) {
        this.errors.push(e as Error);
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.beating.clear();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
  }
}
