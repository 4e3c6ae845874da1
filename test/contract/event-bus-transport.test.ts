import { Controller, INestMicroservice, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { IsInt, IsString } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/app-config';
import { EventBus, IncomingMessage, Subscription, TopicPartition } from '../../src/platform/messaging/event-bus.port';
import { ConsumeBatch, ConsumerControl, EventBatch, EventBusContext, EventBusTransport, PartitionOwner } from '../../src/platform/messaging/event-bus.transport';
import { topicName } from '../../src/platform/messaging/topics';
import { MetricsRegistry } from '../../src/platform/metrics/metrics';
import { ClosableEventBus, eventBusAdapters } from '../support/event-buses';

// The consumer transport (Nest custom strategy over the EventBus port), run against every bus adapter:
// what the modules' @ConsumeBatch handlers rely on. Kafka needs `scripts/kafka.sh start` on 127.0.0.1:9092.
const adapters = eventBusAdapters(1, { clientId: 'tetrad-transport-contract', sessionTimeoutMs: 6000 });

class ItemDto {
  @IsString() name!: string;
  @IsInt() n!: number;
}

/** What the handlers saw, by consumer. */
const seen = {
  delivered: [] as { data: ItemDto; offset: string; isDto: boolean; partition: number }[],
  rejected: [] as IncomingMessage[],
  attempts: [] as number[],
  flaky: [] as number[],
  resumed: [] as number[],
  txAttempts: 0,
};
const resumeAsked: TopicPartition[] = [];
let control: ConsumerControl | undefined;

@Controller()
class DeliveryConsumer {
  @ConsumeBatch({ topic: 'in.delivery', group: 'delivery', message: ItemDto })
  async handle(@Payload() batch: EventBatch<ItemDto>): Promise<void> {
    for (const m of batch.messages) seen.delivered.push({ data: m.data, offset: m.raw.offset, isDto: m.data instanceof ItemDto, partition: batch.partition });
    seen.rejected.push(...batch.rejected);
  }
}

@Controller()
class FlakyConsumer {
  @ConsumeBatch({ topic: 'in.flaky', group: 'flaky', message: ItemDto })
  async handle(@Payload() batch: EventBatch<ItemDto>): Promise<void> {
    seen.attempts.push(batch.messages.length);
    if (seen.attempts.length === 1) throw new Error('first attempt fails: the batch must come again');
    seen.flaky.push(...batch.messages.map((m) => m.data.n));
  }
}

/** Keeps "its own" resume position (as the archiver and the stream worker keep theirs in their stores). */
@Injectable()
class ResumeOwner implements PartitionOwner {
  onListen(c: ConsumerControl): void {
    control = c;
  }

  async resumeFrom(tp: TopicPartition): Promise<string> {
    resumeAsked.push(tp);
    return '3';
  }
}

@Controller()
class ResumingConsumer {
  @ConsumeBatch({ topic: 'in.resume', group: 'resume', message: ItemDto, partitions: ResumeOwner })
  async handle(@Payload() batch: EventBatch<ItemDto>): Promise<void> {
    seen.resumed.push(...batch.messages.map((m) => m.data.n));
  }
}

@Controller()
class TransactionalConsumer {
  @ConsumeBatch({ topic: 'in.tx', group: 'tx', message: ItemDto, transactional: true })
  async handle(@Payload() batch: EventBatch<ItemDto>, @Ctx() ctx: EventBusContext): Promise<void> {
    const attempt = seen.txAttempts++;
    ctx.produce('out.tx', batch.messages.map((m) => ({ key: m.raw.key, value: `${attempt === 0 ? 'thrown' : 'ok'}:${m.data.n}` })));
    if (attempt === 0) throw new Error('fail after producing: the output must not show');
  }
}

@Module({ controllers: [DeliveryConsumer, FlakyConsumer, ResumingConsumer, TransactionalConsumer], providers: [ResumeOwner] })
class ConsumersModule {}

async function waitFor(what: string, ok: () => boolean, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const item = (n: number) => ({ key: 'k', value: JSON.stringify({ name: `item-${n}`, n }) });

describe.each(adapters)('EventBus transport contract: %s', (_name, make) => {
  let bus: ClosableEventBus;
  let app: INestMicroservice;
  let metrics: MetricsRegistry;
  let reader: Subscription | undefined;
  const config = loadConfig({ APP_PROFILE: 'embedded', NAMESPACE: `tc${randomUUID().slice(0, 8)}`, KAFKA_PARTITIONS: '1', NODE_ENV: 'test' });
  const t = (name: string) => topicName(config, name);

  beforeAll(async () => {
    for (const k of Object.keys(seen) as (keyof typeof seen)[]) if (Array.isArray(seen[k])) (seen[k] as unknown[]).length = 0;
    seen.txAttempts = 0;
    resumeAsked.length = 0;
    control = undefined;
    bus = await make();
    await bus.ping().catch((e) => {
      throw new Error(`event bus not reachable (run scripts/kafka.sh start): ${(e as Error).message}`);
    });
    await bus.ensureTopics(['in.delivery', 'in.flaky', 'in.resume', 'in.tx', 'out.tx'].map((name) => ({ name: t(name), partitions: 1 })));
    // Before the consumers start: the resume position must be taken at assignment.
    await bus.publish(t('in.resume'), [0, 1, 2, 3, 4, 5].map(item));
    metrics = new MetricsRegistry();
    const strategy = new EventBusTransport(bus, config, metrics, (token) => app.get(token, { strict: false }));
    app = await NestFactory.createMicroservice(ConsumersModule, { strategy, logger: false, abortOnError: false });
    await app.listen();
  });

  afterAll(async () => {
    await reader?.close();
    await app?.close();
    await bus?.close();
  });

  it('delivers valid messages as DTO instances, in log order, with their partition', async () => {
    await bus.publish(t('in.delivery'), [1, 2, 3].map(item));
    await waitFor('three deliveries', () => seen.delivered.length >= 3);
    expect(seen.delivered.map((d) => d.data)).toEqual([1, 2, 3].map((n) => ({ name: `item-${n}`, n })));
    expect(seen.delivered.every((d) => d.isDto && d.partition === 0)).toBe(true);
    expect(seen.delivered.map((d) => d.offset)).toEqual(['0', '1', '2']);
  });

  it('rejects invalid messages before the handler, counts them once, and does not block the partition', async () => {
    await waitFor('earlier deliveries', () => seen.delivered.length >= 3);
    await bus.publish(t('in.delivery'), [
      { key: 'k', value: 'not json' },
      { key: 'k', value: JSON.stringify({ name: 'wrong type', n: 'seven' }) },
      { key: 'k', value: JSON.stringify([1, 2]) },
      item(4),
    ]);
    await waitFor('the valid message after the invalid ones', () => seen.delivered.length >= 4);
    expect(seen.delivered[3].data).toEqual({ name: 'item-4', n: 4 });
    expect(seen.rejected.map((m) => m.value)).toEqual(['not json', JSON.stringify({ name: 'wrong type', n: 'seven' }), JSON.stringify([1, 2])]);
    const counted = (await metrics.registry.getSingleMetric('event_bus_rejected_messages_total')!.get()).values;
    expect(counted).toEqual([{ value: 3, labels: { group: `${config.NAMESPACE}.delivery`, topic: t('in.delivery') } }]);
  });

  it('redelivers a batch whose handler throws (through Nest’s exception layer), counting its invalid message once', async () => {
    await bus.publish(t('in.flaky'), [item(1), { key: 'k', value: '{"n":1}' }, item(2)]);
    await waitFor('the redelivered batch', () => seen.flaky.length >= 2);
    expect(seen.attempts.length).toBeGreaterThanOrEqual(2);
    expect(seen.flaky).toEqual([1, 2]);
    const counted = (await metrics.registry.getSingleMetric('event_bus_rejected_messages_total')!.get()).values;
    expect(counted.find((v) => v.labels.group === `${config.NAMESPACE}.flaky`)?.value).toBe(1);
  });

  it("starts a partition at its owner's resume position, not at the group's offset", async () => {
    await waitFor('resumed messages', () => seen.resumed.length >= 3);
    await new Promise((r) => setTimeout(r, 300)); // room for a wrong earlier message to show up
    expect(resumeAsked).toEqual([{ topic: t('in.resume'), partition: 0 }]);
    expect(seen.resumed).toEqual([3, 4, 5]);
  });

  it("restarts a subscription on its owner's request: every partition resumes from the owner's position again", async () => {
    await waitFor('resumed messages', () => seen.resumed.length >= 3);
    await control!.restart();
    await waitFor('the re-read', () => seen.resumed.length >= 6);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.resumed).toEqual([3, 4, 5, 3, 4, 5]);
    expect(resumeAsked).toHaveLength(2);
  });

  it('commits transactional output with the offsets: aborted output is invisible, committed output appears once', async () => {
    const got: string[] = [];
    reader = await bus.subscribe({ groupId: `${config.NAMESPACE}.reader`, topics: [t('out.tx')], handleBatch: async (b) => void got.push(...b.messages.map((m) => m.value)) });
    await bus.publish(t('in.tx'), [1, 2, 3].map(item));
    await waitFor('committed output', () => got.length >= 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.txAttempts).toBeGreaterThanOrEqual(2);
    expect(got).toEqual(['ok:1', 'ok:2', 'ok:3']);
  });
});
