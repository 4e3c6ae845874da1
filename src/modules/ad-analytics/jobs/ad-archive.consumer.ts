import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { ConsumeBatch, EventBatch, EventBusContext } from '../../../platform/messaging/event-bus.transport';
import { EVENTS_TOPIC } from '../ad-analytics.config';
import { AdEventArchiver } from '../application/event-archiver.service';
import { AdEvent, decodeEvent } from '../domain';

/**
 * Worker role: every raw `ads.events` record into the archive. The archiver keeps its own per-partition
 * checkpoint, written after the files are durable, and resumes from it (it owns the partitions), not from
 * the group's committed offset, which runs ahead of its buffers: a crash loses only unflushed buffers,
 * and those offsets are read again.
 *
 * Messages are validated by the stream job's own decoder (decodeEvent, hand-written: both consumers
 * read every event, and they must agree on what is malformed). Unlike other consumers, the archive keeps
 * what fails it: `batch.rejected` goes to the archive's `_invalid` folder, for the T+1 report to count.
 */
@Controller()
export class AdArchiveConsumer {
  constructor(private readonly archiver: AdEventArchiver) {}

  @ConsumeBatch({ topic: EVENTS_TOPIC, group: 'ads.archiver', decode: decodeEvent, partitions: AdEventArchiver })
  archive(@Payload() batch: EventBatch<AdEvent>, @Ctx() ctx: EventBusContext): Promise<void> {
    return this.archiver.append(batch, () => ctx.isOwned());
  }
}
