import { plainToInstance, Transform } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, ValidateIf, validateSync } from 'class-validator';
import { stacked } from '../platform/validation/int-range';

export const PROFILES = ['embedded', 'full'] as const;
export type Profile = (typeof PROFILES)[number];
export const MODULES = ['leaderboard', 'ticketing', 'ad-analytics', 'gpu-scheduler'] as const;
export type ModuleName = (typeof MODULES)[number];
export const ROLES = ['api', 'worker', 'scheduler', 'agent'] as const;
export type Role = (typeof ROLES)[number];
export const API_ROLES = ['admin', 'service', 'client'] as const;
export type ApiRole = (typeof API_ROLES)[number];

const list = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : value;
const num = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
const int = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const IntIn = (min: number, max?: number) => stacked(Transform(int), IsInt(), Min(min), ...(max === undefined ? [] : [Max(max)]));
const NumberIn = (min: number, max: number) => stacked(Transform(num), IsNumber(), Min(min), Max(max));
/** A comma-separated list, at least one item, each checked by `each`. */
const ListOf = (each: PropertyDecorator) => stacked(Transform(list), IsArray(), ArrayNotEmpty(), each);

/**
 * Every knob the process reads, validated once at boot. `.env.example` lists exactly these fields.
 * Module-specific knobs live here too, prefixed with the module name, so one validation pass
 * reports every problem at once.
 */
export class AppConfig {
  @IsIn(PROFILES as unknown as string[])
  APP_PROFILE: Profile = 'embedded';

  @ListOf(IsIn(MODULES as unknown as string[], { each: true }))
  APP_MODULES: ModuleName[] = [...MODULES];

  @ListOf(IsIn(ROLES as unknown as string[], { each: true }))
  APP_ROLES: Role[] = ['api', 'worker', 'scheduler'];

  @IntIn(0, 65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  /** Prefix for Kafka topics and groups, Redis keys and BullMQ queues: isolates tenants and test runs. */
  @Matches(/^[a-z0-9][a-z0-9-]{0,30}$/, { message: 'NAMESPACE must be 1-31 of [a-z0-9-]' })
  NAMESPACE = 'tetrad';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Embedded profile: where PGlite keeps its files; `memory` keeps nothing on disk. */
  @IsString()
  DATA_DIR = '.data';

  @IsString()
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tetrad';

  @IntIn(1, 500)
  DATABASE_POOL_SIZE = 20;

  @IsString()
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * `host:port,host:port,...` of Redis Cluster seed nodes: set, it selects cluster mode (ioredis
   * Cluster) and REDIS_URL is not used; unset, REDIS_URL is the one Redis.
   */
  @IsOptional()
  @ListOf(Matches(/^[^:,\s]+:\d{1,5}$/, { each: true, message: 'REDIS_CLUSTER_NODES must be host:port,host:port' }))
  REDIS_CLUSTER_NODES?: string[];

  /** Where leaderboard reads go in cluster mode: `replica` reads from replicas (ioredis scaleReads). */
  @IsIn(['primary', 'replica'])
  REDIS_READ_FROM: 'primary' | 'replica' = 'primary';

  @ListOf(Matches(/^[^:,\s]+:\d{1,5}$/, { each: true, message: 'KAFKA_BROKERS must be host:port,host:port' }))
  KAFKA_BROKERS: string[] = ['127.0.0.1:9092'];

  @IntIn(1, 1024)
  KAFKA_PARTITIONS = 6;

  @IntIn(1, 5)
  KAFKA_REPLICATION_FACTOR = 1;

  /**
   * Consumer group session timeout: how long a member that died without leaving (kill -9) keeps its
   * partitions before the group rebalances. The broker accepts 6000..1800000 by default.
   */
  @IntIn(6000, 1_800_000)
  KAFKA_SESSION_TIMEOUT_MS = 30_000;

  /** `role:key,role:key` with role one of admin, service, client. */
  @ValidateIf((c: AppConfig) => c.APP_PROFILE === 'full' || c.API_KEYS !== undefined)
  @Matches(/^(admin|service|client):[A-Za-z0-9._~-]{8,}(,(admin|service|client):[A-Za-z0-9._~-]{8,})*$/, {
    message:
      'API_KEYS is required in the full profile, as role:key[,role:key] with role admin|service|client and keys of 8+ chars [A-Za-z0-9._~-]',
  })
  API_KEYS?: string;

  /** Requests per second allowed per API key (or per IP without a key); 0 turns the global limit off. */
  @IntIn(0)
  RATE_LIMIT_PER_SECOND = 2000;

  @IntIn(1024, 64 * 1024 * 1024)
  HTTP_BODY_LIMIT_BYTES = 1024 * 1024;

  /** Requests per second per client IP, counted before the key check (keyless, bad-key and webhook
   *  requests included; /health and /metrics exempt); 0 = off; unset = RATE_LIMIT_PER_SECOND. */
  @IsOptional()
  @IntIn(0)
  RATE_LIMIT_PER_IP_PER_SECOND?: number;

  /** Time a client has to send a whole request, headers and body; past it, 408 and the socket closes. */
  @IntIn(100, 600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** Whose X-Forwarded-For to believe for the client IP: false, true, a hop count, or addresses/CIDRs
   *  (also loopback, linklocal, uniquelocal), comma-separated. */
  @Matches(/^(true|false|\d{1,2}|[A-Za-z0-9.:/]+(,\s*[A-Za-z0-9.:/]+)*)$/, {
    message: 'HTTP_TRUST_PROXY must be true, false, a hop count, or comma-separated addresses/CIDRs',
  })
  HTTP_TRUST_PROXY = 'loopback';

  @IntIn(100, 60000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** API processes per container (node:cluster, one shared port); unset = the number of cores.
   *  Only the full profile with the api role is multiplied (src/api-cluster.ts says why). */
  @IsOptional()
  @IntIn(1, 256)
  WEB_CONCURRENCY: number | undefined = undefined;

  /** Leaderboard: refresh interval of the per-process top-K cache behind GET top; 0 turns it off. */
  @IntIn(0, 60000)
  LEADERBOARD_TOP_CACHE_MS = 1000;

  /** GPU agent (agent role): this node's id (its queue is `gpu-node.<id>`); empty = the host name. */
  @Matches(/^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
    message: 'GPU_AGENT_NODE_ID must be 1-63 of [A-Za-z0-9._-], starting with a letter or digit',
  })
  GPU_AGENT_NODE_ID = '';

  /** GPU agent: base URL of the scheduler's HTTP API, e.g. http://scheduler:3000; empty = this process's own server. */
  @Matches(/^$|^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'GPU_AGENT_SCHEDULER_URL must be an http(s) URL' })
  GPU_AGENT_SCHEDULER_URL = '';

  /** GPU agent: API key (service role or above) it calls the scheduler with; empty = a service/admin key of API_KEYS. */
  @IsString()
  GPU_AGENT_API_KEY = '';

  /** GPU agents (and the built-in simulated ones): heartbeat period; keep it well under the scheduler's timeout. */
  @IntIn(100, 600_000)
  GPU_AGENT_HEARTBEAT_MS = 5_000;

  /** GPU agent with no nvidia-smi on PATH: the GPUs it pretends to have, `<type>x<count>:<memoryGb>`, e.g. A100x8:80. */
  @Matches(/^$|^[A-Za-z0-9._-]+x\d{1,4}:\d+(\.\d+)?$/, {
    message: 'GPU_AGENT_SIMULATED_GPUS must look like A100x8:80 (<type>x<count>:<memoryGb>)',
  })
  GPU_AGENT_SIMULATED_GPUS = '';

  /** GPU agent: gpuType to register instead of the one derived from nvidia-smi's GPU name. */
  @Matches(/^$|^[A-Za-z0-9._-]{1,64}$/, { message: 'GPU_AGENT_GPU_TYPE must be 1-64 of [A-Za-z0-9._-]' })
  GPU_AGENT_GPU_TYPE = '';

  /** Simulated runs (tasks without a command, built-in simulated nodes) last predictedRuntimeSec divided by this. */
  @NumberIn(0.001, 1_000_000)
  GPU_AGENT_TIME_SCALE = 1;

  /** GPU agent: a cancelled task's process group gets SIGTERM, then SIGKILL after this grace. */
  @IntIn(0, 600_000)
  GPU_AGENT_KILL_GRACE_MS = 10_000;

  /**
   * GPU agent: executables task commands may name, comma-separated absolute paths or globs (`*`, `?`
   * never cross `/`), e.g. `/usr/bin/python3,/opt/models/bin/*`. Empty = the agent runs no commands.
   */
  @Matches(/^$|^\s*\/[^,]*(,\s*\/[^,]*)*$/, { message: 'GPU_AGENT_ALLOWED_COMMANDS must be comma-separated absolute paths or globs' })
  GPU_AGENT_ALLOWED_COMMANDS = '';

  /** GPU agent: the unprivileged user (name, uid or uid:gid) task commands run as; required when the agent is root. */
  @Matches(/^$|^[A-Za-z0-9._-]{1,64}$|^\d+(:\d+)?$/, { message: 'GPU_AGENT_RUN_AS_USER must be a user name, uid or uid:gid' })
  GPU_AGENT_RUN_AS_USER = '';

  /** Ticketing: the built-in simulated payment provider's latency and share of declined payments. */
  @IntIn(0, 60000)
  TICKETING_PAYMENT_LATENCY_MS = 0;

  @NumberIn(0, 1)
  TICKETING_PAYMENT_DECLINE_RATE = 0;

  /** Ticketing: seconds a checkout has for its payment; the order's deadline is the later of this and the hold's expiry. */
  @IntIn(1, 86_400)
  TICKETING_PAYMENT_WINDOW_SECONDS = 300;

  /** Ticketing: how holds are decided — `redis` (hot inventory, Lua) or `postgres` (row locks alone). */
  @IsIn(['redis', 'postgres'])
  TICKETING_HOLD_STRATEGY: 'redis' | 'postgres' = 'redis';

  /** Payment webhook HMAC secrets, comma-separated (several during rotation). Embedded falls back to a dev secret. */
  @IsOptional()
  @Matches(/^[^,\s]{8,}(,[^,\s]{8,})*$/, { message: 'TICKETING_WEBHOOK_SECRETS must be secrets of 8+ chars, comma-separated' })
  TICKETING_WEBHOOK_SECRETS?: string;

  /** Ad analytics: event-time window width of the real-time aggregates (1 minute; tests shrink it). */
  @IntIn(100, 3_600_000)
  ADS_WINDOW_MS = 60_000;

  /** Ad analytics: bounded out-of-orderness; watermark = max event time seen minus this. */
  @IntIn(0, 3_600_000)
  ADS_OUT_OF_ORDERNESS_MS = 5_000;

  /** Ad analytics: how long after its end (by watermark) a window still accepts events. */
  @IntIn(0, 86_400_000)
  ADS_ALLOWED_LATENESS_MS = 120_000;

  /** Ad analytics: how long an impression waits for its clicks (and a click for its impression); must be >= window + lateness. */
  @IntIn(1000, 7 * 86_400_000)
  ADS_JOIN_TTL_MS = 3_600_000;

  /** Ad analytics: processing time without events after which a partition's watermark advances by itself. */
  @IntIn(100, 3_600_000)
  ADS_IDLE_TIMEOUT_MS = 30_000;

  /** Ad analytics: the worker checkpoints (stats + snapshot + offset, one transaction) at most this often; 0 = every batch. */
  @IntIn(0, 60_000)
  ADS_CHECKPOINT_INTERVAL_MS = 1_000;

  /** Ad analytics: POST /track/events answers 503 if the event log has not acknowledged a batch within this. */
  @IntIn(50, 60_000)
  ADS_TRACK_TIMEOUT_MS = 2_000;

  /** Ad analytics: track batches awaiting the log's ack per process; beyond this, 503 at once (no unbounded buffering). */
  @IntIn(1, 100_000)
  ADS_TRACK_MAX_IN_FLIGHT = 256;

  /** Ad analytics: raw-event archive folder (offline store); empty = <DATA_DIR>/ads/raw (system temp dir when DATA_DIR=memory). */
  @IsString()
  ADS_ARCHIVE_DIR = '';

  /** Ad analytics: the archiver writes a partition's buffer as files once it holds this many records... */
  @IntIn(1, 10_000_000)
  ADS_ARCHIVE_ROLL_EVENTS = 100_000;

  /** Ad analytics: ...or once its oldest record waited this long (ms). Unflushed records are re-read after a crash. */
  @IntIn(50, 3_600_000)
  ADS_ARCHIVE_ROLL_MS = 10_000;

  /** Ad analytics: cron (UTC, seconds field optional) of the T+1 daily report over yesterday's archive; "off" disables it. */
  @Matches(/^(off|(\S+\s+){4,5}\S+)$/, { message: 'ADS_REPORT_CRON must be a 5- or 6-field cron expression or "off"' })
  ADS_REPORT_CRON = '30 1 * * *';

  /** GPU scheduler: sliding window over which the VIP:normal GPU-time ratio is enforced (seconds). */
  @IntIn(60, 7 * 86_400)
  GPU_QUOTA_WINDOW_SEC = 3600;

  /** GPU scheduler: target VIP share of GPU time in the quota window (0.8 = 80:20). */
  @NumberIn(0, 1)
  GPU_VIP_SHARE = 0.8;

  /** GPU scheduler: wait after which a task's priority stops growing (aging cap; bounds starvation). */
  @IntIn(1, 30 * 86_400)
  GPU_AGING_MAX_AGE_SEC = 7200;

  /** GPU scheduler: node scoring, worst-fit (keeps big blocks for gangs) or best-fit (packs). */
  @IsIn(['worst-fit', 'best-fit'])
  GPU_SCORE_POLICY: 'worst-fit' | 'best-fit' = 'worst-fit';

  /** GPU scheduler: queue policy; fifo and strict-priority exist for comparison. */
  @IsIn(['full', 'fifo', 'strict-priority'])
  GPU_POLICY: 'full' | 'fifo' | 'strict-priority' = 'full';

  /** GPU scheduler: a node without a heartbeat for this long becomes UNHEALTHY. */
  @IntIn(100, 3_600_000)
  GPU_HEARTBEAT_TIMEOUT_MS = 15_000;

  /** GPU scheduler: a dispatch not ACCEPTED by the agent within this is rolled back and the task requeued. */
  @IntIn(100, 3_600_000)
  GPU_ACK_TIMEOUT_MS = 10_000;

  /** GPU scheduler: periodic cycle (also runs on submit, finish and node change). */
  @IntIn(10, 600_000)
  GPU_CYCLE_INTERVAL_MS = 1000;

  /** GPU scheduler: leader lease TTL; the active scheduler renews it every cycle interval. */
  @IntIn(100, 600_000)
  GPU_LEASE_TTL_MS = 5000;

  /** GPU scheduler: `off` lets every scheduler-role process run cycles at once (binding stays safe). */
  @IsIn(['on', 'off'])
  GPU_LEADER_LEASE: 'on' | 'off' = 'on';

  /** GPU scheduler: runtime assumed when there is neither history nor a user estimate (seconds). */
  @IntIn(1, 30 * 86_400)
  GPU_DEFAULT_RUNTIME_SEC = 3600;

  /** GPU scheduler: decisions bound per PostgreSQL transaction (1 = one per transaction). */
  @IntIn(1, 1000)
  GPU_BIND_BATCH = 100;

  @IsOptional()
  @IsString()
  NODE_ENV?: string;

  /** Parsed API_KEYS (or the embedded dev key). Filled by loadConfig. */
  apiKeys: Map<string, ApiRole> = new Map();
  usingDevKey = false;

  hasRole(role: Role): boolean {
    return this.APP_ROLES.includes(role);
  }
  hasModule(name: ModuleName): boolean {
    return this.APP_MODULES.includes(name);
  }
  get isFull(): boolean {
    return this.APP_PROFILE === 'full';
  }
  get ipRateLimitPerSecond(): number {
    return this.RATE_LIMIT_PER_IP_PER_SECOND ?? this.RATE_LIMIT_PER_SECOND;
  }
  /** HTTP_TRUST_PROXY in the form Fastify's trustProxy takes. */
  get trustProxy(): boolean | number | string {
    const v = this.HTTP_TRUST_PROXY;
    return v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v;
  }
}

export const DEV_ADMIN_KEY = 'dev-admin-key';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
  }
}

/** Fields that hold secrets are never echoed back in error messages. */
const SECRET = /KEY|PASSWORD|SECRET|TOKEN/;

/**
 * Builds the config from an environment map. Throws ConfigError with one line per problem
 * (name, value, what is allowed).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.keys(new AppConfig()).filter((k) => /^[A-Z]/.test(k));
  const raw: Record<string, string> = {};
  for (const k of [...known, 'API_KEYS', 'TICKETING_WEBHOOK_SECRETS', 'NODE_ENV', 'RATE_LIMIT_PER_IP_PER_SECOND']) {
    const v = env[k];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const problems: string[] = [];
  for (const e of validateSync(config, { forbidUnknownValues: false })) {
    const shown = SECRET.test(e.property) ? '<hidden>' : JSON.stringify(raw[e.property] ?? e.value);
    const why = Object.values(e.constraints ?? {}).join('; ');
    problems.push(`${e.property}=${shown}: ${why}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  if (config.API_KEYS) {
    for (const pair of config.API_KEYS.split(',')) {
      const [role, key] = pair.split(':') as [ApiRole, string];
      config.apiKeys.set(key, role);
    }
  } else {
    config.apiKeys.set(DEV_ADMIN_KEY, 'admin');
    config.usingDevKey = true;
  }
  // Like the dev API key: the embedded profile verifies payment webhooks with a dev secret unless given some.
  if (!config.TICKETING_WEBHOOK_SECRETS && !config.isFull) config.TICKETING_WEBHOOK_SECRETS = 'dev-webhook-secret';
  return config;
}

/** Reads `.env` (if present) beneath real environment variables, which win. */
export function readEnvFile(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
