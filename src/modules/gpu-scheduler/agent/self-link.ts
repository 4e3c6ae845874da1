import { HttpAdapterHost } from '@nestjs/core';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { GpuSchedulerConfig } from '../gpu-scheduler.config';

/**
 * This process's own HTTP base URL, for agents that talk to the scheduler API served right here
 * (built-in simulated nodes; an agent role without GPU_AGENT_SCHEDULER_URL). Resolved per call:
 * before `listen` (or with port 0 in tests) the port is not known yet, and the caller retries.
 */
export function ownBaseUrl(http: HttpAdapterHost, config: GpuSchedulerConfig): string {
  const server = http.httpAdapter?.getHttpServer() as { address(): AddressInfo | string | null } | undefined;
  const addr = server?.address();
  if (!addr || typeof addr === 'string') throw new Error('this process is not listening on HTTP yet');
  const host = ['0.0.0.0', '::', ''].includes(config.HOST) ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
}

/** GPU_AGENT_API_KEY, else a service (or admin) key of this process's own API_KEYS (the dev key in embedded). */
export function agentApiKey(config: GpuSchedulerConfig): string {
  if (config.GPU_AGENT_API_KEY) return config.GPU_AGENT_API_KEY;
  const entries = [...config.apiKeys.entries()];
  const key = entries.find(([, role]) => role === 'service') ?? entries.find(([, role]) => role === 'admin');
  if (!key) throw new Error('GPU agent needs GPU_AGENT_API_KEY or a service/admin key in API_KEYS');
  return key[0];
}

/** GPU_AGENT_NODE_ID, else the host name made into a valid node id. */
export function agentNodeId(config: GpuSchedulerConfig): string {
  if (config.GPU_AGENT_NODE_ID) return config.GPU_AGENT_NODE_ID;
  const id = hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return id || 'gpu-node';
}
