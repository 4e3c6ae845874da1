import type { NodeRegistration } from '../agent-protocol';
import type { StoredNode } from './gpu-rows';

/** GPU nodes in PostgreSQL (gpu_nodes and the live GPU rows on them), in this namespace. */
export abstract class NodeStore {
  /**
   * Inserts the node ACTIVE, or updates it: an UNHEALTHY node turns ACTIVE and its bookkeeping is
   * rebuilt from the live allocations. A capacity below what running tasks hold is `capacity_in_use`.
   */
  abstract register(input: NodeRegistration, labels: Record<string, string>, nowMs: number): Promise<StoredNode>;
  /** Records a heartbeat (an UNHEALTHY node turns ACTIVE); `wasUnhealthy` says it came back. */
  abstract heartbeat(id: string, gpuUtilization: number[] | undefined, nowMs: number): Promise<{ node: StoredNode; wasUnhealthy: boolean } | undefined>;
  abstract setStatus(id: string, status: 'ACTIVE' | 'DRAINING' | 'MAINTENANCE'): Promise<StoredNode | undefined>;
  abstract get(id: string): Promise<StoredNode | undefined>;
  /** Every node, by id. */
  abstract list(): Promise<StoredNode[]>;
  /** Of `taskIds` (what the node's agent runs), those that hold no live GPU there, with their current attempt. */
  abstract orphans(nodeId: string, taskIds: string[]): Promise<{ id: string; attempt: number }[]>;
  /**
   * Frees GPUs on the node held for attempts that are no longer live (older attempt or ended task)
   * and that the agent no longer runs; returns how many attempts it freed.
   */
  abstract releaseStopped(nodeId: string, running: string[], nowMs: number): Promise<number>;
  /** Nodes whose last heartbeat is older than `beforeMs` become UNHEALTHY; returns the ids that just did. */
  abstract markSilentUnhealthy(beforeMs: number): Promise<string[]>;
  /** UNHEALTHY nodes that still have live GPU rows (e.g. after a crash between steps). */
  abstract unhealthyHolding(): Promise<string[]>;
}
