import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ConsumeBatch, EventBatch } from '../../../platform/messaging/event-bus.transport';
import { EVENTS_TOPIC, STREAM_GROUP } from '../ad-analytics.config';
import { AdStreamWorker } from '../application/ad-stream.service';
import { AdEvent, decodeEvent } from '../domain';

/**
 * Worker role: `ads.events` into the stream stage (windows, join, checkpoints: AdStreamWorker, which owns
 * the partitions and resumes each from its PostgreSQL checkpoint, not from the group's offset).
 *
 * Validation is decodeEvent, hand-written rather than a class-validator DTO: this is the hot path (every
 * event, 100k+ a second; a DTO instance and validateSync cost ~10x the JSON.parse), what is on the log
 * passed the gateway's full check already, and the archiver must reject exactly what this rejects.
 * Rejected messages are counted in `malformed` (checkpointed with the state) and skipped.
 */
@Controller()
export class AdStreamConsumer {
  constructor(private readonly worker: AdStreamWorker) {}

  @ConsumeBatch({
    topic: EVENTS_TOPIC,
    group: STREAM_GROUP,
    decode: decodeEvent,
    // ~100-byte events: 4 MiB a partition is ~30k events a batch, so a batch's fixed costs (offset
    // commit, heartbeat, pacing check) amortise; 24 MiB a fetch covers 6 partitions at that size.
    fetch: { maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 24 * 1024 * 1024 },
    partitions: AdStreamWorker,
  })
  process(@Payload() batch: EventBatch<AdEvent>): Promise<void> {
    return this.worker.process(batch);
  }
}
