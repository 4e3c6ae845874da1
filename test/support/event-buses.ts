import { logLevel } from 'kafkajs';
import { EventBus } from '../../src/platform/messaging/event-bus.port';
import { KafkaEventBus, KafkaEventBusOptions } from '../../src/platform/messaging/kafka-event-bus';
import { MemoryEventBus } from '../../src/platform/messaging/memory-event-bus';
import { tempDataDir } from './temp-dir';

export type ClosableEventBus = EventBus & { close(): Promise<void> };

/**
 * Every EventBus adapter, for `describe.each` in the contract suites: the in-process log in memory and
 * journaled to a DATA_DIR, and Kafka (the broker from `scripts/kafka.sh start` on 127.0.0.1:9092).
 */
export function eventBusAdapters(
  partitions: number,
  kafka: Pick<KafkaEventBusOptions, 'clientId'> & Partial<KafkaEventBusOptions>,
): [string, () => ClosableEventBus | Promise<ClosableEventBus>][] {
  return [
    ['memory', () => new MemoryEventBus(partitions)],
    [
      'durable (DATA_DIR journal)',
      async () => {
        const dir = tempDataDir();
        const bus = await MemoryEventBus.open(`${dir.path}/bus.log`, partitions);
        const close = bus.close.bind(bus);
        bus.close = async () => { await close(); dir.remove(); };
        return bus;
      },
    ],
    [
      'kafka',
      () =>
        new KafkaEventBus({
          brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
          defaultPartitions: partitions,
          replicationFactor: 1,
          logLevel: logLevel.NOTHING,
          ...kafka,
        }),
    ],
  ];
}
