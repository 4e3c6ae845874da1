/**
 * Where tests find PostgreSQL, Redis and Kafka, as the app's env knobs: TEST_DATABASE_URL,
 * TEST_REDIS_URL and TEST_KAFKA_BROKERS where set (a session's own database and Redis index), else
 * the local services.
 */
export const TEST_SERVICES = {
  DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092',
};
