/**
 * Reproduces the start-up race behind UNKNOWN_TOPIC_OR_PARTITION on a multi-broker KRaft cluster:
 * a topic is created, then each broker is asked alone for its metadata, as a consumer in another
 * process would ask (kafkajs's subscribe asks one random broker and gives up on that error).
 *   KAFKA_BROKERS=127.0.0.1:9192,127.0.0.1:9194,127.0.0.1:9196 \
 *     npx ts-node --transpile-only bench/platform/topic-metadata-gap.ts [rounds=30]
 * Two ways to wait after CreateTopics, in the same run:
 *   one-broker — poll one admin connection until that broker shows leaders (what ensureTopics did);
 *   ensureTopics — KafkaEventBus.ensureTopics (waits until every broker knows the topics).
 * Prints, per way, how many single-broker asks right after the wait did not know the topic.
 */
import { Kafka, logLevel } from 'kafkajs';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9192,127.0.0.1:9194,127.0.0.1:9196').split(',');
const rounds = Number(process.argv[2] ?? 30);

async function main() {
  const admin = new Kafka({ brokers, clientId: 'gap', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const bus = new KafkaEventBus({ brokers, clientId: 'gap-bus', defaultPartitions: 3, replicationFactor: Math.min(3, brokers.length) });
  // One admin per broker, each seeded with that broker only and connected to it alone.
  const single = await Promise.all(
    brokers.map(async (b) => {
      const a = new Kafka({ brokers: [b], clientId: `gap-${b}`, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      await a.connect();
      return a;
    }),
  );
  const result = { 'one-broker': { asks: 0, unknown: 0 }, ensureTopics: { asks: 0, unknown: 0 } };
  for (let r = 0; r < rounds; r++) {
    for (const way of ['one-broker', 'ensureTopics'] as const) {
      const topic = `gap-${Date.now().toString(36)}-${r}-${way === 'one-broker' ? 'a' : 'b'}`;
      if (way === 'one-broker') {
        await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 3, replicationFactor: Math.min(3, brokers.length) }] });
        for (;;) {
          const m = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
          if (m && m.topics[0].partitions.length > 0 && m.topics[0].partitions.every((p) => p.leader >= 0)) break;
          await new Promise((res) => setTimeout(res, 200));
        }
      } else {
        await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      }
      await Promise.all(
        single.map(async (a) => {
          result[way].asks++;
          const m = await a.fetchTopicMetadata({ topics: [topic] }).catch((e: { type?: string }) => e);
          if (!('topics' in m) || !m.topics[0].partitions.every((p) => p.leader >= 0)) result[way].unknown++;
        }),
      );
    }
  }
  for (const [way, v] of Object.entries(result)) console.log(`${way}: ${v.unknown} of ${v.asks} single-broker asks right after the wait did not know the topic`);
  await Promise.all([admin.disconnect(), bus.close(), ...single.map((a) => a.disconnect())]);
}

main().then(() => process.exit(0), (e) => (console.error(e), process.exit(1)));
