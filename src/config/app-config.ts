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
 * Every knob the process reads, validated once at boot. `.env.example` lists exactly these fields
 * and says what each means. Module-specific knobs live here too, prefixed with the module name, so
 * one validation pass reports every problem at once; modules read theirs through config slices.
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

  @Matches(/^[a-z0-9][a-z0-9-]{0,30}$/, { message: 'NAMESPACE must be 1-31 of [a-z0-9-]' })
  NAMESPACE = 'tetrad';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsString()
  DATA_DIR = '.data';

  @IsString()
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tetrad';

  @IntIn(1, 500)
  DATABASE_POOL_SIZE = 20;

  @IsString()
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsOptional()
  @ListOf(Matches(/^[^:,\s]+:\d{1,5}$/, { each: true, message: 'REDIS_CLUSTER_NODES must be host:port,host:port' }))
  REDIS_CLUSTER_NODES?: string[];

  @IsIn(['primary', 'replica'])
  REDIS_READ_FROM: 'primary' | 'replica' = 'primary';

  @ListOf(Matches(/^[^:,\s]+:\d{1,5}$/, { each: true, message: 'KAFKA_BROKERS must be host:port,host:port' }))
  KAFKA_BROKERS: string[] = ['127.0.0.1:9092'];

  @IntIn(1, 1024)
  KAFKA_PARTITIONS = 6;

  @IntIn(1, 5)
  KAFKA_REPLICATION_FACTOR = 1;

  @IntIn(6000, 1_800_000)
  KAFKA_SESSION_TIMEOUT_MS = 30_000;

  @ValidateIf((c: AppConfig) => c.APP_PROFILE === 'full' || c.API_KEYS !== undefined)
  @Matches(/^(admin|service|client):[A-Za-z0-9._~-]{8,}(,(admin|service|client):[A-Za-z0-9._~-]{8,})*$/, {
    message:
      'API_KEYS is required in the full profile, as role:key[,role:key] with role admin|service|client and keys of 8+ chars [A-Za-z0-9._~-]',
  })
  API_KEYS?: string;

  @IntIn(0)
  RATE_LIMIT_PER_SECOND = 2000;

  @IntIn(1024, 64 * 1024 * 1024)
  HTTP_BODY_LIMIT_BYTES = 1024 * 1024;

  @IsOptional()
  @IntIn(0)
  RATE_LIMIT_PER_IP_PER_SECOND?: number;

  @IntIn(100, 600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  @Matches(/^(true|false|\d{1,2}|[A-Za-z0-9.:/]+(,\s*[A-Za-z0-9.:/]+)*)$/, {
    message: 'HTTP_TRUST_PROXY must be true, false, a hop count, or comma-separated addresses/CIDRs',
  })
  HTTP_TRUST_PROXY = 'loopback';

  @IntIn(100, 60000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  @IsOptional()
  @IntIn(1, 256)
  WEB_CONCURRENCY: number | undefined = undefined;

  @IntIn(0, 60000)
  LEADERBOARD_TOP_CACHE_MS = 1000;

  @Matches(/^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
    message: 'GPU_AGENT_NODE_ID must be 1-63 of [A-Za-z0-9._-], starting with a letter or digit',
  })
  GPU_AGENT_NODE_ID = '';

  @Matches(/^$|^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'GPU_AGENT_SCHEDULER_URL must be an http(s) URL' })
  GPU_AGENT_SCHEDULER_URL = '';

  @IsString()
  GPU_AGENT_API_KEY = '';

  @IntIn(100, 600_000)
  GPU_AGENT_HEARTBEAT_MS = 5_000;

  @Matches(/^$|^[A-Za-z0-9._-]+x\d{1,4}:\d+(\.\d+)?$/, {
    message: 'GPU_AGENT_SIMULATED_GPUS must look like A100x8:80 (<type>x<count>:<memoryGb>)',
  })
  GPU_AGENT_SIMULATED_GPUS = '';

  @Matches(/^$|^[A-Za-z0-9._-]{1,64}$/, { message: 'GPU_AGENT_GPU_TYPE must be 1-64 of [A-Za-z0-9._-]' })
  GPU_AGENT_GPU_TYPE = '';

  @NumberIn(0.001, 1_000_000)
  GPU_AGENT_TIME_SCALE = 1;

  @IntIn(0, 600_000)
  GPU_AGENT_KILL_GRACE_MS = 10_000;

  @Matches(/^$|^\s*\/[^,]*(,\s*\/[^,]*)*$/, { message: 'GPU_AGENT_ALLOWED_COMMANDS must be comma-separated absolute paths or globs' })
  GPU_AGENT_ALLOWED_COMMANDS = '';

  @Matches(/^$|^[A-Za-z0-9._-]{1,64}$|^\d+(:\d+)?$/, { message: 'GPU_AGENT_RUN_AS_USER must be a user name, uid or uid:gid' })
  GPU_AGENT_RUN_AS_USER = '';

  @IntIn(0, 60000)
  TICKETING_PAYMENT_LATENCY_MS = 0;

  @NumberIn(0, 1)
  TICKETING_PAYMENT_DECLINE_RATE = 0;

  @IntIn(1, 86_400)
  TICKETING_PAYMENT_WINDOW_SECONDS = 300;

  @IsIn(['redis', 'postgres'])
  TICKETING_HOLD_STRATEGY: 'redis' | 'postgres' = 'redis';

  @IsOptional()
  @Matches(/^[^,\s]{8,}(,[^,\s]{8,})*$/, { message: 'TICKETING_WEBHOOK_SECRETS must be secrets of 8+ chars, comma-separated' })
  TICKETING_WEBHOOK_SECRETS?: string;

  @IntIn(100, 3_600_000)
  ADS_WINDOW_MS = 60_000;

  @IntIn(0, 3_600_000)
  ADS_OUT_OF_ORDERNESS_MS = 5_000;

  @IntIn(0, 86_400_000)
  ADS_ALLOWED_LATENESS_MS = 120_000;

  @IntIn(1000, 7 * 86_400_000)
  ADS_JOIN_TTL_MS = 3_600_000;

  @IntIn(100, 3_600_000)
  ADS_IDLE_TIMEOUT_MS = 30_000;

  @IntIn(0, 60_000)
  ADS_CHECKPOINT_INTERVAL_MS = 1_000;

  @IntIn(50, 60_000)
  ADS_TRACK_TIMEOUT_MS = 2_000;

  @IntIn(1, 100_000)
  ADS_TRACK_MAX_IN_FLIGHT = 256;

  @IsString()
  ADS_ARCHIVE_DIR = '';

  @IntIn(1, 10_000_000)
  ADS_ARCHIVE_ROLL_EVENTS = 100_000;

  @IntIn(50, 3_600_000)
  ADS_ARCHIVE_ROLL_MS = 10_000;

  @Matches(/^(off|(\S+\s+){4,5}\S+)$/, { message: 'ADS_REPORT_CRON must be a 5- or 6-field cron expression or "off"' })
  ADS_REPORT_CRON = '30 1 * * *';

  @IntIn(60, 7 * 86_400)
  GPU_QUOTA_WINDOW_SEC = 3600;

  @NumberIn(0, 1)
  GPU_VIP_SHARE = 0.8;

  @IntIn(1, 30 * 86_400)
  GPU_AGING_MAX_AGE_SEC = 7200;

  @IsIn(['worst-fit', 'best-fit'])
  GPU_SCORE_POLICY: 'worst-fit' | 'best-fit' = 'worst-fit';

  @IsIn(['full', 'fifo', 'strict-priority'])
  GPU_POLICY: 'full' | 'fifo' | 'strict-priority' = 'full';

  @IntIn(100, 3_600_000)
  GPU_HEARTBEAT_TIMEOUT_MS = 15_000;

  @IntIn(100, 3_600_000)
  GPU_ACK_TIMEOUT_MS = 10_000;

  @IntIn(10, 600_000)
  GPU_CYCLE_INTERVAL_MS = 1000;

  @IntIn(100, 600_000)
  GPU_LEASE_TTL_MS = 5000;

  @IsIn(['on', 'off'])
  GPU_LEADER_LEASE: 'on' | 'off' = 'on';

  @IntIn(1, 30 * 86_400)
  GPU_DEFAULT_RUNTIME_SEC = 3600;

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
