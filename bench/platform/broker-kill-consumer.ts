/**
 * Diagnoses a consumer group across a Kafka broker SIGKILL, outside the app: two KafkaEventBus
 * subscriptions (as two worker processes) in one group over a 3-partition, 3-way replicated topic,
 * a producer publishing throughout, and one broker SIGKILLed mid-stream (the group's coordinator or
 * partition 0's leader). Prints, every 2 s, the group's state and each member's consumed count, and
 * at the end whether every published message was consumed.
 *   CLUSTER_DIR=/tmp/c KAFKA_BROKERS=127.0.0.1:9292,127.0.0.1:9294,127.0.0.1:9296 \
 *     npx ts-node --transpile-only bench/platform/broker-kill-consumer.ts [coordinator|leader0] [downSeconds]
 * KAFKA_DEBUG=1 logs kafkajs at DEBUG.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { groupCoordinator } from '../../test/cluster/local-cluster';
import { KafkaEventBus } from '../../src/platform/messaging/kafka-event-bus';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9292,127.0.0.1:9294,127.0.0.1:9296').split(',');
const dir = process.env.CLUSTER_DIR ?? '/tmp/hk-cluster';
const target = process.argv[2] ?? 'coordinator';
const downSeconds = Number(process.argv[3] ?? 40);
const t0 = Date.now();
const say = (s: string) => process.stdout.write(`[+${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);


async function main() {
  const id = randomBytes(3).toString('hex');
  const topic = `bk-${id}`;
  const groupId = `bk-g-${id}`;
  const opts = {
    brokers,
    clientId: `bk-${id}`,
    defaultPartitions: 3,
    replicationFactor: 3,
    sessionTimeoutMs: 6000,
    logLevel: process.env.KAFKA_DEBUG ? logLevel.DEBUG : logLevel.WARN,
  };
  const producer = new KafkaEventBus(opts);
  await producer.ensureTopics([{ name: topic }]);
  const seen = new Map<string, number>();
  const perMember = [0, 0];
  const members = [new KafkaEventBus(opts), new KafkaEventBus(opts)];
  for (const [i, bus] of members.entries()) {
    await bus.subscribe({
      groupId,
      topics: [topic],
      resumeFrom: async () => undefined,
      handleBatch: async (b) => {
        for (const m of b.messages) {
          const k = `${b.partition}/${m.value}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
        perMember[i] += b.messages.length;
      },
    });
  }
  const kafka = new Kafka({ clientId: `bk-admin-${id}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const state = async () => {
    try {
      const { groups } = await admin.describeGroups([groupId]);
      return `${groups[0].state}/${groups[0].members.length}`;
    } catch (e) {
      return `? ${(e as Error).message}`;
    }
  };

  let sent = 0;
  let stop = false;
  const published = new Set<string>();
  const producing = (async () => {
    for (let n = 0; !stop; n++) {
      const batch = Array.from({ length: 50 }, (_, j) => ({ key: `k${n}-${j}`, value: `${n}-${j}` }));
      try {
        await producer.publish(topic, batch);
        for (const m of batch) published.add(m.value);
        sent += batch.length;
      } catch (e) {
        say(`publish failed: ${(e as Error).message}`);
      }
      await sleep(100);
    }
  })();
  const consumed = () => new Set([...seen.keys()].map((k) => k.slice(k.indexOf('/') + 1))).size;
  const report = setInterval(async () => say(`group ${await state()}; sent ${sent}, consumed ${consumed()} (members ${perMember.join('/')})`), 2000);

  await sleep(8000);
  let node: number;
  if (target === 'coordinator') {
    node = await groupCoordinator(admin, groupId);
  } else {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    node = meta.topics[0].partitions.find((p) => p.partitionId === 0)!.leader;
  }
  const pid = Number(readFileSync(join(dir, 'kafka', `node-${node}`, 'kafka.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  say(`SIGKILLed node ${node} (${target}), pid ${pid}`);
  if (downSeconds >= 0) {
    await sleep(downSeconds * 1000);
    execFileSync('bash', ['scripts/cluster.sh', 'up'], { stdio: 'ignore', env: { ...process.env, CLUSTER_DIR: dir } });
    say(`restarted node ${node}`);
  }
  await sleep(15_000);
  stop = true;
  await producing;
  const end = Date.now() + 120_000;
  while (consumed() < published.size && Date.now() < end) await sleep(500);
  clearInterval(report);
  const got = new Set([...seen.keys()].map((k) => k.slice(k.indexOf('/') + 1)));
  const missing = [...published].filter((v) => !got.has(v)).length;
  say(`RESULT ${consumed() >= published.size ? 'OK' : 'STUCK'}: published ${published.size}, consumed ${consumed()}, missing ${missing}, group ${await state()}`);
  await admin.disconnect();
  await Promise.race([Promise.all([...members, producer].map((b) => b.close())), sleep(20_000)]);
  process.exit(consumed() >= published.size ? 0 : 1);
}

main().catch((e) => {
  say(`FAILED ${(e as Error).stack}`);
  process.exit(2);
});
