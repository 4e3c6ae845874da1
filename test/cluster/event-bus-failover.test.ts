import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';
import { pollUntil } from '../support/app';
import { groupCoordinator, LocalCluster } from './local-cluster';

/**
 * The Kafka event bus on a 3-broker cluster when the broker coordinating a consumer group is
 * SIGKILLed while the group commits. kafkajs 2.2.4 keeps the coordinator it found at join for every
 * offset commit and retries a failed commit against that same node: while the node is dead and
 * after it comes back (answering NOT_COORDINATOR: the group moved to another broker), for as long
 * as the consumer's retry budget lasts. With an unbounded budget the batch never ended, heartbeats
 * stopped, the session expired and the group stayed Empty for good: the cluster suite's ad stream
 * "stuck after a broker kill". Here two subscriptions (two worker processes) must consume every
 * message published before, during and after the kill, and the group must be Stable again with both.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('Kafka event bus on a 3-broker cluster: the group coordinator SIGKILLed mid-stream', () => {
  const cluster = new LocalCluster();
  const buses: KafkaEventBus[] = [];

  beforeAll(() => cluster.up(), 300_000);
  afterAll(async () => {
    await Promise.race([Promise.all(buses.map((b) => b.close().catch(() => undefined))), sleep(30_000)]);
    await cluster.down();
  }, 180_000);

  it('both subscriptions rejoin the group at its new coordinator and consume every published message', async () => {
    const id = randomBytes(3).toString('hex');
    const topic = `failover-${id}`;
    const groupId = `failover-g-${id}`;
    const bus = () => {
      const b = new KafkaEventBus({ brokers: cluster.kafkaBrokers, clientId: `failover-${id}`, defaultPartitions: 3, replicationFactor: 3, sessionTimeoutMs: 6000, logLevel: logLevel.NOTHING });
      buses.push(b);
      return b;
    };
    const producer = bus();
    await producer.ensureTopics([{ name: topic }]);
    const consumed = new Set<string>();
    let redelivered = 0;
    for (let i = 0; i < 2; i++) {
      await bus().subscribe({
        groupId,
        topics: [topic],
        handleBatch: async (b) => {
          for (const m of b.messages) {
            if (consumed.has(m.value)) redelivered++;
            consumed.add(m.value);
          }
        },
      });
    }
    const admin = new Kafka({ clientId: `failover-admin-${id}`, brokers: cluster.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      // A publish refused while the partition leaders move is sent again: every message ends in the log.
      const published: string[] = [];
      const publish = async (n: number) => {
        const batch = Array.from({ length: 20 }, (_, j) => ({ key: `k${n}-${j}`, value: `${n}-${j}` }));
        for (;;) {
          try {
            await producer.publish(topic, batch);
            published.push(...batch.map((m) => m.value));
            return;
          } catch {
            await sleep(500);
          }
        }
      };
      for (let n = 0; n < 30; n++) {
        await publish(n);
        await sleep(50);
      }
      const coordinator = await groupCoordinator(admin, groupId);
      cluster.killKafka(coordinator);
      // Commits go on: the members commit after every batch, so one is in flight at the kill or just after.
      for (let n = 30; n < 150; n++) {
        await publish(n);
        await sleep(50);
      }
      // The killed broker comes back (the coordinator stays where it moved), and more is published.
      await cluster.restartMissing();
      for (let n = 150; n < 180; n++) await publish(n);

      const missing = await pollUntil(async () => published.filter((v) => !consumed.has(v)), (m) => m.length === 0, 120_000, 500);
      expect({ missing: missing.length, first: missing.slice(0, 5) }).toEqual({ missing: 0, first: [] });
      expect(published).toHaveLength(180 * 20);

      const groupState = async () => {
        const { groups } = await admin.describeGroups([groupId]);
        return { state: groups[0].state, members: groups[0].members.length };
      };
      const state = await pollUntil(groupState, (s) => s.state === 'Stable' && s.members === 2, 60_000, 500);
      expect(state).toEqual({ state: 'Stable', members: 2 });
      process.stderr.write(`[event-bus failover] coordinator node ${coordinator} killed; ${published.length} consumed, ${redelivered} delivered again (at-least-once)\n`);
    } finally {
      await admin.disconnect();
    }
  }, 420_000);
});
