import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Outbox } from '../../src/platform/outbox/outbox';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';
import { topicName } from '../../src/platform/messaging/topics';
import { http, KEYS, startTestApp, TestApp } from '../support/app';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Published {
  id: string;
  key: string;
  type: string;
  orderId: string;
  version: number;
  headerId: string;
  partition: number;
  offset: bigint;
}

/**
 * The transactional outbox across a Kafka outage, on a PRIVATE broker (the shared 9092 is never
 * touched): order state changes made while the broker is down wait in PostgreSQL and are
 * published once it is back, each state change under exactly one stable event id, per order in
 * version order, none missing.
 */
describe('ticketing outbox (full profile, private Kafka broker stopped and restarted)', () => {
  const port = 21500 + Math.floor(Math.random() * 400) * 2;
  const kafkaDir = mkdtempSync(join(tmpdir(), 'tetrad-outbox-kafka-'));
  const kafka = (cmd: string) =>
    run('bash', [join(ROOT, 'scripts/kafka.sh'), cmd], { env: { ...process.env, KAFKA_PORT: String(port), KAFKA_DATA_DIR: kafkaDir } });
  let t: TestApp | undefined;
  let n = 0;
  const key = () => `ko-${Date.now()}-${++n}`;

  beforeAll(async () => {
    await kafka('start');
    t = await startTestApp({ APP_PROFILE: 'full', APP_MODULES: 'ticketing', RATE_LIMIT_PER_SECOND: '0', KAFKA_BROKERS: `127.0.0.1:${port}` });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await kafka('stop').catch(() => undefined);
    rmSync(kafkaDir, { recursive: true, force: true });
  }, 60_000);

  it('publishes every order state change once per id, in order per order, through a broker outage', async () => {
    const app = t!;
    const post = (path: string, body: unknown, idem = true) =>
      http(app.url, 'POST', path, { key: path === '/api/v1/events' ? KEYS.admin : KEYS.client, body, headers: idem ? { 'idempotency-key': key() } : {} });
    const ev = (
      await post('/api/v1/events', { name: 'Outbox', startsAt: new Date(Date.now() + 86_400_000).toISOString(), generalAdmission: { capacity: 40, price: 5 }, maxPerUser: 2 }, false)
    ).body as { id: string };
    const buy = async (user: string, method: string) => {
      const h = await post(`/api/v1/events/${ev.id}/holds`, { userId: user, quantity: 2 });
      expect(h.status).toBe(201);
      const c = await post(`/api/v1/holds/${h.body.holdId}/checkout`, { paymentMethod: method });
      expect(c.status).toBe(202);
      return c.body.orderId as string;
    };
    const settle = async (ids: string[]) => {
      for (const id of ids) {
        for (let i = 0; i < 100; i++) {
          const o = await http(app.url, 'GET', `/api/v1/orders/${id}`, { key: KEYS.client });
          if (o.body.status !== 'PENDING') break;
          await sleep(100);
        }
      }
    };
    const relay = app.app.get(Outbox, { strict: false });
    const waitDrained = async () => {
      for (let i = 0; i < 300 && (await relay.backlog()) > 0; i++) await sleep(200);
      return relay.backlog();
    };

    const before = await Promise.all(Array.from({ length: 6 }, (_, i) => buy(`up-${i}`, i % 3 === 0 ? 'decline' : 'card')));
    await settle(before);
    expect(await waitDrained()).toBe(0);

    await kafka('stop');
    const during = await Promise.all(Array.from({ length: 8 }, (_, i) => buy(`down-${i}`, i % 4 === 0 ? 'decline' : 'flaky')));
    await settle(during);
    // Orders moved on without the broker; their events wait in the outbox.
    const statuses = await Promise.all(during.map(async (id) => (await http(app.url, 'GET', `/api/v1/orders/${id}`, { key: KEYS.client })).body.status));
    expect(statuses.filter((s) => s === 'PENDING')).toEqual([]);
    await sleep(1000);
    expect(await relay.backlog()).toBe(16); // created + final for each of the 8 orders

    await kafka('start');
    expect(await waitDrained()).toBe(0);

    // Read the whole topic back with a fresh consumer group.
    const reader = new KafkaEventBus({ brokers: [`127.0.0.1:${port}`], clientId: `${app.config.NAMESPACE}-reader`, defaultPartitions: 3, replicationFactor: 1 });
    const got: Published[] = [];
    const sub = await reader.subscribe({
      groupId: `${app.config.NAMESPACE}.outbox-reader`,
      topics: [topicName(app.config, 'ticketing.orders')],
      handleBatch: async (b) => {
        for (const m of b.messages) {
          const v = JSON.parse(m.value) as { id: string; type: string; orderId: string; version: number };
          got.push({ id: v.id, key: m.key, type: v.type, orderId: v.orderId, version: v.version, headerId: m.headers['event-id'], partition: m.partition, offset: BigInt(m.offset) });
        }
      },
    });
    const all = [...before, ...during];
    try {
      for (let i = 0; i < 150 && new Set(got.map((g) => g.id)).size < all.length * 2; i++) await sleep(200);
    } finally {
      await sub.close();
      await reader.close();
    }

    // Exactly one id per state change: (order, version) ↔ id is a bijection, duplicates (if a
    // publish was retried) repeat the same id, and nothing is missing.
    const idByChange = new Map<string, string>();
    for (const g of got) {
      expect(g.key).toBe(g.orderId);
      expect(g.headerId).toBe(g.id);
      const change = `${g.orderId}#${g.version}`;
      expect(idByChange.get(change) ?? g.id).toBe(g.id);
      idByChange.set(change, g.id);
    }
    expect(new Set(idByChange.values()).size).toBe(idByChange.size);
    for (const id of all) {
      const events = got.filter((g) => g.orderId === id).sort((a, b) => (a.offset < b.offset ? -1 : 1));
      // One partition per order (keyed by order id), versions in commit order.
      expect(new Set(events.map((e) => e.partition)).size).toBe(1);
      const firstSeen = [...new Map(events.map((e) => [e.id, e])).values()];
      expect(firstSeen.map((e) => e.version)).toEqual([1, 2]);
      expect(firstSeen[0].type).toBe('order.created');
      expect(['order.confirmed', 'order.failed']).toContain(firstSeen[1].type);
    }
    expect(idByChange.size).toBe(all.length * 2);
  }, 180_000);
});
