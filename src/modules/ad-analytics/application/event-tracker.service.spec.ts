import { loadConfig } from '../../../config/app-config';
import { AppError } from '../../../platform/errors/app-error';
import { OutgoingMessage } from '../../../platform/messaging/event-bus.port';
import { MemoryEventBus } from '../../../platform/messaging/memory-event-bus';
import { MetricsRegistry } from '../../../platform/metrics/metrics';
import { EventTracker } from './event-tracker.service';

/** A log that takes messages but never acknowledges them: what a producer sees while the broker is down. */
class UnackedBus extends MemoryEventBus {
  pending = 0;
  override publish(_topic: string, _messages: OutgoingMessage[]): Promise<void> {
    this.pending++;
    return new Promise<void>(() => undefined);
  }
}

const event = { type: 'impression', impressionId: 'i1', adId: 'a1', campaignId: 'c1', ts: 1_764_000_000_000 };

function tracker(bus: MemoryEventBus, env: Record<string, string> = {}) {
  const config = loadConfig({ ADS_TRACK_TIMEOUT_MS: '50', ADS_TRACK_MAX_IN_FLIGHT: '2', ...env });
  return new EventTracker(bus, config, new MetricsRegistry());
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

describe('EventTracker (collection gateway)', () => {
  it('answers only after the log took the batch, keyed by impressionId', async () => {
    const bus = new MemoryEventBus(3);
    await bus.ensureTopics([{ name: 'ads.events' }]);
    const t = tracker(bus);
    expect(await t.track({ events: [event, { ...event, type: 'click', ts: event.ts + 1 }] })).toBe(2);
    const all = [0, 1, 2].flatMap((p) => bus.log({ topic: 'ads.events', partition: p }));
    expect(all.map((m) => [m.key, JSON.parse(m.value).type])).toEqual([['i1', 'impression'], ['i1', 'click']]);
    expect(new Set(all.map((m) => m.partition)).size).toBe(1); // an impression and its click meet in one partition
  });

  it('turns a log that does not acknowledge into 503 after the timeout, and refuses at once beyond the in-flight bound', async () => {
    const bus = new UnackedBus();
    const t = tracker(bus);
    const first = rejection(t.track([event]));
    const second = rejection(t.track([event]));
    // two sends await acks: the third is refused without touching the log (no unbounded buffering)
    const third = await rejection(t.track([event]));
    expect([third.kind, third.code, bus.pending]).toEqual(['unavailable', 'event_log_unavailable', 2]);
    for (const e of [await first, await second]) expect([e.kind, e.code]).toEqual(['unavailable', 'event_log_unavailable']);
  });

  it('names the index of the first malformed event', async () => {
    const e = await rejection(tracker(new UnackedBus()).track({ events: [event, { ...event, adId: 7 }] }));
    expect([e.kind, e.code, e.extra]).toEqual(['invalid', 'invalid_event', { index: 1, field: 'adId' }]);
  });
});
