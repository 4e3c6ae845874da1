import { AppConfig, loadConfig } from '../../src/config/app-config';

export const SERVICE_KEY = 'bench-service-key';

/**
 * The ad-analytics app on the full profile as the pipeline benches run it: `roles` of it, `partitions`
 * on the events topic, no rate limit, an ephemeral port, the bench's keys. The environment passes
 * through (ADS_CHECKPOINT_INTERVAL_MS etc.); `extra` is set on top.
 */
export function adAnalyticsFullConfig(ns: string, roles: string, partitions: number, extra: Record<string, string> = {}): AppConfig {
  return loadConfig({
    ...process.env,
    APP_PROFILE: 'full',
    APP_MODULES: 'ad-analytics',
    APP_ROLES: roles,
    NAMESPACE: ns,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    KAFKA_PARTITIONS: String(partitions),
    RATE_LIMIT_PER_SECOND: '0',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    API_KEYS: `admin:bench-admin-key,service:${SERVICE_KEY}`,
    ...extra,
  });
}
