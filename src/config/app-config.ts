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

/** A knob: its default and its rules, listed as if stacked above a class field (top first). */
const knob = <T>(value: T, ...rules: PropertyDecorator[]) => ({ value, rule: stacked(...rules) });

/**
 * Every knob the process reads, validated once at boot. `.env.example` lists exactly these fields
 * and says what each means. Module-specific knobs live here too, prefixed with the module name, so
 * one validation pass reports every problem at once; modules read theirs through config slices.
 */
const KNOBS = {
  APP_PROFILE: knob<Profile>('embedded', IsIn(PROFILES as unknown as string[])),
  APP_MODULES: knob<ModuleName[]>([...MODULES], ListOf(IsIn(MODULES as unknown as string[], { each: true }))),
  APP_ROLES: knob<Role[]>(['api', 'worker', 'scheduler'], ListOf(IsIn(ROLES as unknown as string[], { each: true }))),
  PORT: knob(3000, IntIn(0, 65535)),
  HOST: knob('0.0.0.0', IsString()),
  NAMESPACE: knob('tetrad', Matches(/^[a-z0-9][a-z0-9-]{0,30}$/, { message: 'NAMESPACE must be 1-31 of [a-z0-9-]' })),
  LOG_LEVEL: knob('info', IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  DATA_DIR: knob('.data', IsString()),
  DATABASE_URL: knob('postgres://postgres@127.0.0.1:5432/tetrad', IsString()),
  DATABASE_POOL_SIZE: knob(20, IntIn(1, 500)),
  REDIS_URL: knob('redis://127.0.0.1:6379', IsString()),
  REDIS_CLUSTER_NODES: knob<string[] | undefined>(undefined, IsOptional(), ListOf(Matches(/^[^:,\s]+:\d{1,5}$/, { each: true, message: 'REDIS_CLUSTER_NODES must be host:port,host:port' }))),
  REDIS_READ_FROM: knob<'primary' | 'replica'>('primary', IsIn(['primary', 'replica'])),
  KAFKA_BROKERS: knob<string[]>(['127.0.0.1:9092'], ListOf(Matches(/^[^:,\s]+:\d{1,5}$/, { each: true, message: 'KAFKA_BROKERS must be host:port,host:port' }))),
  KAFKA_PARTITIONS: knob(6, IntIn(1, 1024)),
  KAFKA_REPLICATION_FACTOR: knob(1, IntIn(1, 5)),
  KAFKA_SESSION_TIMEOUT_MS: knob(30_000, IntIn(6000, 1_800_000)),
  API_KEYS: knob<string | undefined>(
    undefined,
    ValidateIf((c: { APP_PROFILE: Profile; API_KEYS?: string }) => c.APP_PROFILE === 'full' || c.API_KEYS !== undefined),
    Matches(/^(admin|service|client):[A-Za-z0-9._~-]{8,}(,(admin|service|client):[A-Za-z0-9._~-]{8,})*$/, {
      message:
        'API_KEYS is required in the full profile, as role:key[,role:key] with role admin|service|client and keys of 8+ chars [A-Za-z0-9._~-]',
    }),
  ),
  RATE_LIMIT_PER_SECOND: knob(2000, IntIn(0)),
  HTTP_BODY_LIMIT_BYTES: knob(1024 * 1024, IntIn(1024, 64 * 1024 * 1024)),
  RATE_LIMIT_PER_IP_PER_SECOND: knob<number | undefined>(undefined, IsOptional(), IntIn(0)),
  HTTP_REQUEST_TIMEOUT_MS: knob(30_000, IntIn(100, 600_000)),
  HTTP_TRUST_PROXY: knob(
    'loopback',
    Matches(/^(true|false|\d{1,2}|[A-Za-z0-9.:/]+(,\s*[A-Za-z0-9.:/]+)*)$/, { message: 'HTTP_TRUST_PROXY must be true, false, a hop count, or comma-separated addresses/CIDRs' }),
  ),
  SHUTDOWN_TIMEOUT_MS: knob(10000, IntIn(100, 60000)),
  WEB_CONCURRENCY: knob<number | undefined>(undefined, IsOptional(), IntIn(1, 256)),
  LEADERBOARD_TOP_CACHE_MS: knob(1000, IntIn(0, 60000)),
  GPU_AGENT_NODE_ID: knob(
    '',
    Matches(/^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: 'GPU_AGENT_NODE_ID must be 1-63 of [A-Za-z0-9._-], starting with a letter or digit' }),
  ),
  GPU_AGENT_SCHEDULER_URL: knob('', Matches(/^$|^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'GPU_AGENT_SCHEDULER_URL must be an http(s) URL' })),
  GPU_AGENT_API_KEY: knob('', IsString()),
  GPU_AGENT_HEARTBEAT_MS: knob(5_000, IntIn(100, 600_000)),
  GPU_AGENT_SIMULATED_GPUS: knob(
    '',
    Matches(/^$|^[A-Za-z0-9._-]+x\d{1,4}:\d+(\.\d+)?$/, { message: 'GPU_AGENT_SIMULATED_GPUS must look like A100x8:80 (<type>x<count>:<memoryGb>)' }),
  ),
  GPU_AGENT_GPU_TYPE: knob('', Matches(/^$|^[A-Za-z0-9._-]{1,64}$/, { message: 'GPU_AGENT_GPU_TYPE must be 1-64 of [A-Za-z0-9._-]' })),
  GPU_AGENT_TIME_SCALE: knob(1, NumberIn(0.001, 1_000_000)),
  GPU_AGENT_KILL_GRACE_MS: knob(10_000, IntIn(0, 600_000)),
  GPU_AGENT_ALLOWED_COMMANDS: knob('', Matches(/^$|^\s*\/[^,]*(,\s*\/[^,]*)*$/, { message: 'GPU_AGENT_ALLOWED_COMMANDS must be comma-separated absolute paths or globs' })),
  GPU_AGENT_RUN_AS_USER: knob('', Matches(/^$|^[A-Za-z0-9._-]{1,64}$|^\d+(:\d+)?$/, { message: 'GPU_AGENT_RUN_AS_USER must be a user name, uid or uid:gid' })),
  TICKETING_PAYMENT_LATENCY_MS: knob(0, IntIn(0, 60000)),
  TICKETING_PAYMENT_DECLINE_RATE: knob(0, NumberIn(0, 1)),
  TICKETING_PAYMENT_WINDOW_SECONDS: knob(300, IntIn(1, 86_400)),
  TICKETING_HOLD_STRATEGY: knob<'redis' | 'postgres'>('redis', IsIn(['redis', 'postgres'])),
  TICKETING_WEBHOOK_SECRETS: knob<string | undefined>(undefined, IsOptional(), Matches(/^[^,\s]{8,}(,[^,\s]{8,})*$/, { message: 'TICKETING_WEBHOOK_SECRETS must be secrets of 8+ chars, comma-separated' })),
  ADS_WINDOW_MS: knob(60_000, IntIn(100, 3_600_000)),
  ADS_OUT_OF_ORDERNESS_MS: knob(5_000, IntIn(0, 3_600_000)),
  ADS_ALLOWED_LATENESS_MS: knob(120_000, IntIn(0, 86_400_000)),
  ADS_JOIN_TTL_MS: knob(3_600_000, IntIn(1000, 7 * 86_400_000)),
  ADS_IDLE_TIMEOUT_MS: knob(30_000, IntIn(100, 3_600_000)),
  ADS_CHECKPOINT_INTERVAL_MS: knob(1_000, IntIn(0, 60_000)),
  ADS_TRACK_TIMEOUT_MS: knob(2_000, IntIn(50, 60_000)),
  ADS_TRACK_MAX_IN_FLIGHT: knob(256, IntIn(1, 100_000)),
  ADS_ARCHIVE_DIR: knob('', IsString()),
  ADS_ARCHIVE_ROLL_EVENTS: knob(100_000, IntIn(1, 10_000_000)),
  ADS_ARCHIVE_ROLL_MS: knob(10_000, IntIn(50, 3_600_000)),
  ADS_REPORT_CRON: knob('30 1 * * *', Matches(/^(off|(\S+\s+){4,5}\S+)$/, { message: 'ADS_REPORT_CRON must be a 5- or 6-field cron expression or "off"' })),
  GPU_QUOTA_WINDOW_SEC: knob(3600, IntIn(60, 7 * 86_400)),
  GPU_VIP_SHARE: knob(0.8, NumberIn(0, 1)),
  GPU_AGING_MAX_AGE_SEC: knob(7200, IntIn(1, 30 * 86_400)),
  GPU_SCORE_POLICY: knob<'worst-fit' | 'best-fit'>('worst-fit', IsIn(['worst-fit', 'best-fit'])),
  GPU_POLICY: knob<'full' | 'fifo' | 'strict-priority'>('full', IsIn(['full', 'fifo', 'strict-priority'])),
  GPU_HEARTBEAT_TIMEOUT_MS: knob(15_000, IntIn(100, 3_600_000)),
  GPU_ACK_TIMEOUT_MS: knob(10_000, IntIn(100, 3_600_000)),
  GPU_CYCLE_INTERVAL_MS: knob(1000, IntIn(10, 600_000)),
  GPU_LEASE_TTL_MS: knob(5000, IntIn(100, 600_000)),
  GPU_LEADER_LEASE: knob<'on' | 'off'>('on', IsIn(['on', 'off'])),
  GPU_DEFAULT_RUNTIME_SEC: knob(3600, IntIn(1, 30 * 86_400)),
  GPU_BIND_BATCH: knob(100, IntIn(1, 1000)),
  NODE_ENV: knob<string | undefined>(undefined, IsOptional(), IsString()),
};

type Knobs = { [K in keyof typeof KNOBS]: (typeof KNOBS)[K]['value'] };
export interface AppConfig extends Knobs {}
export class AppConfig {
  constructor() {
    // Each instance its own copy of a default list.
    for (const [k, { value }] of Object.entries(KNOBS)) (this as Record<string, unknown>)[k] = Array.isArray(value) ? [...value] : value;
  }

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

for (const [k, { rule }] of Object.entries(KNOBS)) rule(AppConfig.prototype, k);

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
  const raw: Record<string, string> = {};
  for (const k of Object.keys(KNOBS)) {
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
