import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';
import { LocalCluster } from './local-cluster';

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

/** Java's String.hashCode: Kafka places a group on __consumer_offsets partition |hash| % partitions. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
/** scripts/kafka.sh sets offsets.topic.num.partitions=10. */
const OFFSETS_PARTITIONS = 10;

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
      const meta = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      const coordinator = meta.topics[0].partitions.find((p) => p.partitionId === Math.abs(javaHash(groupId)) % OFFSETS_PARTITIONS)!.leader;
      cluster.killKafka(coordinator);
      // Commits go on: the members commit after every batch, so one is in flight at the kill or just after.
      for (let n = 30; n < 150; n++) {
        await publish(n);
        await sleep(50);
      }
      // The killed broker comes back (the coordinator stays where it moved), and more is published.
      await cluster.restartMissing();
      for (let n = 150; n < 180; n++) await publish(n);

      const end = Date.now() + 120_000;
      while (published.some((v) => !consumed.has(v)) && Date.now() < end) await sleep(500);
      const missing = published.filter((v) => !consumed.has(v));
      expect({ missing: missing.length, first: missing.slice(0, 5) }).toEqual({ missing: 0, first: [] });
      expect(published).toHaveLength(180 * 20);

      let state = { state: '', members: 0 };
      const stableEnd = Date.now() + 60_000;
      do {
        const { groups } = await admin.describeGroups([groupId]);
        state = { state: groups[0].state, members: groups[0].members.length };
        if (state.state === 'Stable' && state.members === 2) break;
        await sleep(500);
      } while (Date.now() < stableEnd);
      expect(state).toEqual({ state: 'Stable', members: 2 });
      process.stderr.write(`[event-bus failover] coordinator node ${coordinator} killed; ${published.length} consumed, ${redelivered} delivered again (at-least-once)\n`);
    } finally {
      await admin.disconnect();
    }
  }, 420_000);
});
