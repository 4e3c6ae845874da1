import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AdAnalyticsConfig, eventsTopic } from '../ad-analytics.config';
import { EventBus } from '../../../platform/messaging/event-bus.port';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { withTimeout } from '../../../platform/with-timeout';
import { AdAnalyticsCode, AdAnalyticsError } from '../ad-analytics.errors';
import { encodeEvent, parseTrackBatch } from '../domain';

/**
 * The collection gateway: validates a batch, publishes it keyed by impressionId (an impression and
 * its clicks meet in one partition) and answers only once the log acknowledged it (acks=all,
 * idempotent producer). Nothing is buffered here: a log that does not ack within
 * ADS_TRACK_TIMEOUT_MS, or more than ADS_TRACK_MAX_IN_FLIGHT batches awaiting acks, is a 503 and the
 * client retries. A retried batch whose first attempt did reach the log is harmless: the stream
 * dedups by (type, impressionId).
 */
@Injectable()
export class EventTracker {
  private inFlight = 0;
  private readonly topic: string;
  private readonly accepted: Counter;
  private readonly rejected: Counter<'reason'>;

  constructor(
    private readonly bus: EventBus,
    private readonly config: AdAnalyticsConfig,
    metrics: MetricsRegistry,
  ) {
    this.topic = eventsTopic(config);
    this.accepted = new Counter({ name: 'ads_track_events_total', help: 'events acknowledged by the log', registers: [metrics.registry] });
    this.rejected = new Counter({
      name: 'ads_track_rejected_batches_total',
      help: 'track batches refused (invalid, log busy, log unavailable)',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }

  async track(body: unknown): Promise<number> {
    const parsed = parseTrackBatch(body);
    if (!parsed.ok) {
      this.rejected.inc({ reason: 'invalid' });
      const p = parsed.problem;
      const where = p.index >= 0 ? `event ${p.index}${p.field ? `.${p.field}` : ''}` : p.field;
      throw new AdAnalyticsError('invalid', AdAnalyticsCode.InvalidEvent, `${where}: ${p.message}`, { index: p.index, field: p.field });
    }
    if (this.inFlight >= this.config.ADS_TRACK_MAX_IN_FLIGHT) {
      this.rejected.inc({ reason: 'busy' });
      throw logUnavailable(`${this.inFlight} batches already await the log's acknowledgement`);
    }
    const messages = parsed.events.map((e) => ({ key: e.impressionId, value: encodeEvent(e) }));
    this.inFlight++;
    // The counter drops when the send settles, not at the timeout: it bounds what the producer holds.
    const send = this.bus.publish(this.topic, messages).finally(() => this.inFlight--);
    try {
      await withTimeout(send, this.config.ADS_TRACK_TIMEOUT_MS, `no acknowledgement within ${this.config.ADS_TRACK_TIMEOUT_MS} ms`);
    } catch (e) {
      send.catch(() => undefined);
      this.rejected.inc({ reason: 'unavailable' });
      throw logUnavailable((e as Error).message);
    }
    this.accepted.inc(messages.length);
    return messages.length;
  }
}

const logUnavailable = (why: string) =>
  new AdAnalyticsError('unavailable', AdAnalyticsCode.EventLogUnavailable, `the event log did not acknowledge the batch (${why}); retry it`, { retryAfterSeconds: 1 });
