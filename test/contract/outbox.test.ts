import { randomUUID } from 'crypto';
import { ManualClock } from '../support/manual-clock';
import { loadConfig } from '../../src/config/app-config';
import { SqlDatabase } from '../../src/platform/database/sql-database';
import { MemoryEventBus } from '../../src/platform/messaging/memory-event-bus';
import { OUTBOX_RETENTION_MS, Outbox, OutboxConfig, OutboxMessage } from '../../src/platform/outbox/outbox';
import { SQL_ADAPTERS } from '../support/sql-harness';

describe.each(SQL_ADAPTERS)('Outbox contract: %s', (engine, makeHarness) => {
  const harness = makeHarness();
  let db: SqlDatabase;
  let bus: MemoryEventBus;
  const clock = new ManualClock(1_000_000);
  const outboxOf = (namespace: string) => new Outbox(db.dataSource, bus, new OutboxConfig(loadConfig({ NAMESPACE: namespace })), clock);
  const published = (topic: string) => bus.log({ topic, partition: 0 }).map((m) => ({ key: m.key, value: m.value, headers: m.headers }));
  const msg = (topic: string, key: string, n: number, headers?: Record<string, string>): OutboxMessage => ({ id: `${key}:${n}`, topic, key, value: `${key}#${n}`, ...(headers ? { headers } : {}) });

  beforeAll(async () => {
    db = await harness.open();
    bus = new MemoryEventBus(1);
  });
  afterAll(async () => {
    await bus.close();
    await db?.close();
    await harness.cleanup();
  });

  it('publishes what a committed transaction appended, in order, with its headers, and stamps it sent', async () => {
    const topic = `t-${randomUUID()}`;
    await bus.ensureTopics([{ name: topic }]);
    const sut = outboxOf(`ns-${randomUUID().slice(0, 8)}`);
    await db.dataSource.transaction((tx) => sut.append(tx, msg(topic, 'a', 1, { type: 'created', 'event-id': 'a:1' }), msg(topic, 'b', 1)));
    await db.dataSource.transaction((tx) => sut.append(tx, msg(topic, 'a', 2)));
    expect(await sut.backlog()).toBe(3);
    expect(await sut.backlog('another-topic')).toBe(0);
    expect(await sut.relayOnce()).toBe(3);
    expect(published(topic)).toEqual([
      { key: 'a', value: 'a#1', headers: { type: 'created', 'event-id': 'a:1' } },
      { key: 'b', value: 'b#1', headers: {} },
      { key: 'a', value: 'a#2', headers: {} },
    ]);
    expect(await sut.backlog()).toBe(0);
    expect(await sut.relayOnce()).toBe(0);
  });

  it('never publishes what a rolled-back transaction appended', async () => {
    const topic = `t-${randomUUID()}`;
    await bus.ensureTopics([{ name: topic }]);
    const sut = outboxOf(`ns-${randomUUID().slice(0, 8)}`);
    const failed = db.dataSource.transaction(async (tx) => {
      await sut.append(tx, msg(topic, 'x', 1));
      throw new Error('state change refused');
    });
    await expect(failed).rejects.toThrow('state change refused');
    expect(await sut.relayOnce()).toBe(0);
    expect(published(topic)).toEqual([]);
  });

  it('keeps the rows when the log refuses, and publishes them with the same ids once it accepts', async () => {
    const topic = `t-${randomUUID()}`; // not created yet: the log refuses it, as Kafka refuses an unknown topic
    const sut = outboxOf(`ns-${randomUUID().slice(0, 8)}`);
    await db.dataSource.transaction((tx) => sut.append(tx, msg(topic, 'k', 1), msg(topic, 'k', 2)));
    await expect(sut.relayOnce()).rejects.toThrow(/does not exist/);
    expect(await sut.backlog()).toBe(2);
    await bus.ensureTopics([{ name: topic }]);
    expect(await sut.relayOnce()).toBe(2);
    expect(published(topic).map((m) => m.value)).toEqual(['k#1', 'k#2']);
  });

  it('with relays racing in several processes, publishes every row exactly once and each key in commit order', async () => {
    const topic = `t-${randomUUID()}`;
    await bus.ensureTopics([{ name: topic }]);
    const ns = `ns-${randomUUID().slice(0, 8)}`;
    const relays = [outboxOf(ns), outboxOf(ns), outboxOf(ns)];
    for (let batch = 0; batch < 6; batch++) {
      await db.dataSource.transaction((tx) => relays[0].append(tx, ...Array.from({ length: 200 }, (_, i) => msg(topic, `k${i % 7}`, batch * 200 + i))));
    }
    while ((await relays[0].backlog()) > 0) await Promise.all(relays.map((r) => r.relayOnce(100)));
    const got = published(topic);
    expect(got).toHaveLength(1200);
    expect(new Set(got.map((m) => m.value)).size).toBe(1200);
    for (let k = 0; k < 7; k++) {
      const seqs = got.filter((m) => m.key === `k${k}`).map((m) => Number(m.value.split('#')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  if (engine === 'postgres') {
    it('publishes nothing while another relay of the namespace holds the advisory lock', async () => {
      const topic = `t-${randomUUID()}`;
      await bus.ensureTopics([{ name: topic }]);
      const ns = `ns-${randomUUID().slice(0, 8)}`;
      const sut = outboxOf(ns);
      await db.dataSource.transaction((tx) => sut.append(tx, msg(topic, 'k', 1)));
      const runner = db.dataSource.createQueryRunner();
      await runner.startTransaction();
      try {
        await runner.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`outbox:${ns}`]);
        expect(await sut.relayOnce()).toBe(0);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
      expect(await sut.relayOnce()).toBe(1);
    });
  }

  it('keeps namespaces apart and deletes sent rows only after the retention', async () => {
    const topic = `t-${randomUUID()}`;
    await bus.ensureTopics([{ name: topic }]);
    const mine = outboxOf(`ns-${randomUUID().slice(0, 8)}`);
    const theirs = outboxOf(`ns-${randomUUID().slice(0, 8)}`);
    await db.dataSource.transaction((tx) => mine.append(tx, msg(topic, 'm', 1)));
    await db.dataSource.transaction((tx) => theirs.append(tx, msg(topic, 't', 1)));
    expect(await mine.relayOnce()).toBe(1);
    expect(await theirs.backlog()).toBe(1);
    await db.dataSource.transaction((tx) => mine.append(tx, msg(topic, 'm', 2))); // unsent: never pruned
    expect(await mine.prune()).toBe(0);
    clock.advance(OUTBOX_RETENTION_MS + 1);
    expect(await theirs.prune()).toBe(0);
    expect(await mine.prune()).toBe(1);
    expect(await mine.backlog()).toBe(1);
  });
});
