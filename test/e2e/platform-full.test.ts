import { Kafka, logLevel } from 'kafkajs';
import { http, startTestApp, TestApp, until } from '../support/app';
import { PrivateRedis } from '../support/processes';
import { Infrastructure } from '../../src/platform/infrastructure';

describe('platform (full profile: PostgreSQL, Redis, Kafka)', () => {
  const redis = new PrivateRedis(16391);
  let t: TestApp;

  beforeAll(async () => {
    await redis.start();
    t = await startTestApp({ APP_PROFILE: 'full', REDIS_URL: redis.url, APP_MODULES: 'leaderboard' });
  });
  afterAll(async () => {
    await t?.close();
    await redis.stop();
  });

  it('is ready when PostgreSQL, Redis and Kafka answer', async () => {
    const r = await http(t.url, 'GET', '/health/ready');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.info).sort()).toEqual(['kafka', 'postgres', 'redis']);
  });

  it('creates its modules\' topics at start-up with the configured partitions', async () => {
    const admin = new Kafka({ brokers: t.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const name = `${t.config.NAMESPACE}.leaderboard.scores`;
      const meta = await admin.fetchTopicMetadata({ topics: [name] });
      expect(meta.topics[0].partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('turns 503 naming redis while Redis is down, and 200 again once it is back, without a restart', async () => {
    await redis.stop();
    const down = await http(t.url, 'GET', '/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.error.redis.status).toBe('down');
    expect(down.body.info.postgres.status).toBe('up');
    await redis.start();
    await until(async () => (await http(t.url, 'GET', '/health/ready')).status === 200);
  });
});

describe('platform (full profile) shutdown', () => {
  it('closes its Redis and PostgreSQL connections when the app closes (after the modules\' hooks)', async () => {
    const t = await startTestApp({ APP_PROFILE: 'full', APP_MODULES: 'leaderboard' });
    const infra = t.app.get(Infrastructure);
    expect(infra.redis?.status).toBe('ready');
    expect(infra.sql.dataSource.isInitialized).toBe(true);
    await t.close();
    expect(infra.sql.dataSource.isInitialized).toBe(false);
    // QUIT is answered first; the socket closes right after.
    await until(async () => infra.redis?.status === 'end', 3000);
  });
});
