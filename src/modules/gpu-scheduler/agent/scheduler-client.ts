import { AgentReport, HeartbeatBody, NodeRegistration } from '../agent-protocol';

/**
 * Outcome of one agent → scheduler call after retries: `ok` (2xx), `rejected` (a definite no: a 4xx
 * other than 408/429, e.g. 409 for a stale attempt or 404 for an unknown node), or `gave-up` (still
 * failing transiently when the retry budget ran out, or the agent is stopping).
 */
export type CallResult = { kind: 'ok'; body: unknown } | { kind: 'rejected'; status: number; body: unknown } | { kind: 'gave-up'; error: string };

export interface RetryPolicy {
  /** First backoff; doubles each try up to maxDelayMs, with ±20% jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Stop retrying once this much time has passed since the first try. */
  budgetMs: number;
}

/** Everything an agent says to the scheduler (agent-protocol.ts). */
export interface SchedulerClient {
  register(node: NodeRegistration, retry?: Partial<RetryPolicy>): Promise<CallResult>;
  heartbeat(nodeId: string, body: HeartbeatBody): Promise<CallResult>;
  report(taskId: string, report: AgentReport, retry?: Partial<RetryPolicy>): Promise<CallResult>;
}

export interface HttpSchedulerClientOptions {
  /** Resolved per call: the built-in simulated agents learn their own server's port only after listen. */
  baseUrl: () => string;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  /** Set when the agent stops: pending retries give up at once. */
  stopped?: () => boolean;
}

const REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 5_000, budgetMs: 120_000 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * The agent's HTTP client. Every call is safe to repeat (registration is idempotent by node id,
 * reports by (taskId, attempt, node, event), heartbeats overwrite), so transient failures — network
 * errors, 5xx, 408, 429 — are simply retried with exponential backoff within a time budget.
 */
export class HttpSchedulerClient implements SchedulerClient {
  private readonly retry: RetryPolicy;

  constructor(private readonly opts: HttpSchedulerClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  register(node: NodeRegistration, retry?: Partial<RetryPolicy>): Promise<CallResult> {
    return this.call('POST', '/api/v1/gpu/nodes', node, retry);
  }

  /** One try only: the next heartbeat is the retry. */
  heartbeat(nodeId: string, body: HeartbeatBody): Promise<CallResult> {
    return this.call('POST', `/api/v1/gpu/nodes/${encodeURIComponent(nodeId)}/heartbeat`, body, { budgetMs: 0 });
  }

  report(taskId: string, report: AgentReport, retry?: Partial<RetryPolicy>): Promise<CallResult> {
    return this.call('POST', `/api/v1/gpu/tasks/${encodeURIComponent(taskId)}/report`, report, retry);
  }

  private async call(method: string, path: string, body: unknown, override?: Partial<RetryPolicy>): Promise<CallResult> {
    const policy = { ...this.retry, ...override };
    const started = Date.now();
    let delay = policy.baseDelayMs;
    let lastError = '';
    for (;;) {
      const r = await this.once(method, path, body);
      if (r.kind !== 'gave-up') return r;
      lastError = r.error;
      const jittered = delay * (0.8 + Math.random() * 0.4);
      if (this.opts.stopped?.() || Date.now() - started + jittered > policy.budgetMs) break;
      await sleep(jittered);
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
    return { kind: 'gave-up', error: lastError };
  }

  private async once(method: string, path: string, body: unknown): Promise<CallResult> {
    try {
      const res = await fetch(this.opts.baseUrl().replace(/\/$/, '') + path, {
        method,
        headers: { 'content-type': 'application/json', 'x-api-key': this.opts.apiKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep text */
      }
      if (res.ok) return { kind: 'ok', body: parsed };
      if (res.status >= 500 || res.status === 408 || res.status === 429) {
        return { kind: 'gave-up', error: `HTTP ${res.status} ${summary(parsed)}` };
      }
      return { kind: 'rejected', status: res.status, body: parsed };
    } catch (e) {
      return { kind: 'gave-up', error: (e as Error).message };
    }
  }
}

export function summary(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { code?: unknown; detail?: unknown; title?: unknown };
    return [b.code, b.detail ?? b.title].filter((x) => x !== undefined).join(': ');
  }
  return String(body ?? '').slice(0, 200);
}
