import { Logger } from '@nestjs/common';
import { RecordMetadata } from 'kafkajs';
import { PartitionedMessage, sendUntilAcknowledged } from './kafka-event-bus';

/** What kafkajs 2.2.4 returns when a leader moved mid-send: no error, no acknowledgement for the partition. */
const acksFor = (batch: PartitionedMessage[], drop: number[]): RecordMetadata[] =>
  [...new Set(batch.map((m) => m.partition))].filter((p) => !drop.includes(p)).map((partition) => ({ topicName: 't', partition, errorCode: 0 }));

describe('sendUntilAcknowledged (publish and transactional output)', () => {
  const batch: PartitionedMessage[] = [0, 1, 2, 1].map((partition, i) => ({ key: `k${i}`, value: `v${i}`, partition }));
  let warn: jest.SpyInstance;
  beforeEach(() => (warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)));
  afterEach(() => warn.mockRestore());

  it('sends again exactly the messages of a partition missing from the acknowledgements', async () => {
    const sent: PartitionedMessage[][] = [];
    await sendUntilAcknowledged('t', batch, async (b) => {
      sent.push(b);
      return acksFor(b, sent.length === 1 ? [1] : []);
    });
    expect(sent.map((b) => b.map((m) => m.value))).toEqual([['v0', 'v1', 'v2', 'v3'], ['v1', 'v3']]);
    expect(warn).toHaveBeenCalledWith('2 messages to t (partitions 1) were not acknowledged: sending them again');
  });

  it('throws after 5 resends, so a transaction aborts instead of committing without the output', async () => {
    let calls = 0;
    await expect(
      sendUntilAcknowledged('t', batch, async (b) => {
        calls++;
        return acksFor(b, [2]);
      }),
    ).rejects.toThrow('kafka: 1 messages to t were never acknowledged');
    expect(calls).toBe(6);
  });
});
