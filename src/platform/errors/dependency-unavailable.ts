/**
 * Recognises "a dependency is unreachable right now" errors from the clients we use (ioredis,
 * pg/TypeORM, kafkajs), so the HTTP filter can answer 503 + Retry-After instead of a 500.
 * Matched by error class name, Node system error code and the clients' fixed messages only: a
 * programming error (TypeError, a bad query, a Lua error) must stay a 500. No client is imported
 * here, so modules may use this without depending on an adapter.
 */
export type Dependency = 'redis' | 'postgres' | 'kafka' | 'network';

/** Seconds a client should wait before retrying: about one Redis failover or reconnect. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

const BY_CLASS: Record<string, Dependency> = {
  // ioredis: the offline queue was flushed after maxRetriesPerRequest reconnects; every cluster node failed.
  MaxRetriesPerRequestError: 'redis',
  ClusterAllFailedError: 'redis',
  // kafkajs: the broker could not be reached / did not answer / is not known yet.
  KafkaJSConnectionError: 'kafka',
  KafkaJSConnectionClosedError: 'kafka',
  KafkaJSRequestTimeoutError: 'kafka',
  KafkaJSBrokerNotFound: 'kafka',
  KafkaJSMetadataNotLoaded: 'kafka',
};

/** Fixed messages of plain Errors the clients raise when their connection is gone. */
const BY_MESSAGE: [RegExp, Dependency][] = [
  [/^Connection is closed\.$/, 'redis'],
  [/^Stream isn't writeable and enableOfflineQueue options is false$/, 'redis'],
  [/^None of startup nodes is available$/, 'redis'],
  [/^Too many Cluster redirections\./, 'redis'],
  [/^Redis connection is not ready$/, 'redis'],
  [/^Connection terminated( unexpectedly| due to connection timeout)?$/, 'postgres'],
  [/^timeout exceeded when trying to connect$/, 'postgres'],
  [/^Client has encountered a connection error and is not queryable$/, 'postgres'],
];

/**
 * Redis replies that mean "this node cannot serve now" (failover, loading, demoted primary). MOVED
 * and ASK reach the app when ioredis could not follow a redirection during a failover (an
 * auto-pipeline whose commands were redirected differently is failed whole): the cluster suite saw
 * `MOVED 10099 <the killed primary>` answered as a 500 to buyers during a flash sale.
 */
const REDIS_TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|MOVED|ASK) /;

/** Node system errors of an outbound connection (they carry `syscall`). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs of a server that cannot serve now: class 08 (connection exception),
 * 53300 too_many_connections, 57P01-57P03 (shutting down, crashed, starting up).
 */
const PG_UNAVAILABLE_STATE = /^(08...|53300|57P0[123])$/;

/** Which dependency `e` (or an error it wraps) says is unavailable; undefined for any other error. */
export function unavailableDependency(e: unknown, depth = 0): Dependency | undefined {
  if (!(e instanceof Error) || depth > 4) return undefined;
  const err = e as Error & { code?: unknown; syscall?: unknown; severity?: unknown };
  const byClass = BY_CLASS[err.name] ?? BY_CLASS[err.constructor.name];
  if (byClass) return byClass;
  for (const [pattern, dep] of BY_MESSAGE) if (pattern.test(err.message)) return dep;
  if (err.name === 'ReplyError' && REDIS_TRANSIENT_REPLY.test(err.message)) return 'redis';
  if (typeof err.code === 'string') {
    if (typeof err.syscall === 'string' && NETWORK_CODES.has(err.code)) return 'network';
    // pg's DatabaseError carries the server's severity next to the SQLSTATE.
    if (typeof err.severity === 'string' && PG_UNAVAILABLE_STATE.test(err.code)) return 'postgres';
  }
  // Wrappers: TypeORM's driverError, kafkajs's originalError / cause, AggregateError's errors.
  const inner = e as { cause?: unknown; driverError?: unknown; originalError?: unknown; errors?: unknown };
  for (const wrapped of [inner.cause, inner.driverError, inner.originalError, ...(Array.isArray(inner.errors) ? inner.errors : [])]) {
    const dep = unavailableDependency(wrapped, depth + 1);
    if (dep) return dep;
  }
  return undefined;
}
