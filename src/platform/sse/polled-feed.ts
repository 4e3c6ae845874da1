import { Logger } from '@nestjs/common';

export type FeedSubscriber<T> = (value: T) => void;

/**
 * One poller per key shared by every subscriber of that key, running only while someone listens:
 * N browsers watching the same GPU cluster cost one query per interval, not N, and a subscriber is
 * sent a value only when it differs from the last one (compared as JSON). The first value goes to
 * each new subscriber at once.
 */
export class PolledFeeds<T> {
  private readonly log: Logger;
  private readonly feeds = new Map<string, Feed<T>>();
  private readonly enders = new Set<() => void>();

  constructor(
    name: string,
    private readonly intervalMs: number,
  ) {
    this.log = new Logger(name);
  }

  /** `end` runs at shutdown (close()), so an open response ends and the server can close. */
  subscribe(key: string, load: () => Promise<T>, fn: FeedSubscriber<T>, end?: () => void): () => void {
    const f = this.feeds.get(key) ?? new Feed<T>(load, this.intervalMs, this.log);
    this.feeds.set(key, f);
    f.add(fn);
    if (end) this.enders.add(end);
    return () => {
      if (end) this.enders.delete(end);
      if (f.remove(fn) === 0) {
        f.stop();
        if (this.feeds.get(key) === f) this.feeds.delete(key);
      }
    };
  }

  /** Shutdown: stop every poller and end every subscriber's response. */
  close(): void {
    for (const f of this.feeds.values()) f.stop();
    this.feeds.clear();
    const enders = [...this.enders];
    this.enders.clear();
    for (const end of enders) end();
  }

  get size(): number {
    return this.feeds.size;
  }
}

class Feed<T> {
  private readonly subscribers = new Set<FeedSubscriber<T>>();
  private last: { json: string; value: T } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  /** One warning per streak of failures, not one a second while a store is down. */
  private failing = false;

  constructor(
    private readonly load: () => Promise<T>,
    intervalMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
    void this.poll();
  }

  add(fn: FeedSubscriber<T>): void {
    this.subscribers.add(fn);
    if (this.last) fn(this.last.value);
  }

  remove(fn: FeedSubscriber<T>): number {
    this.subscribers.delete(fn);
    return this.subscribers.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const value = await this.load();
      if (this.failing) this.log.log('poll recovered');
      this.failing = false;
      const json = JSON.stringify(value);
      if (this.stopped || json === this.last?.json) return;
      this.last = { json, value };
      for (const fn of this.subscribers) fn(value);
    } catch (e) {
      if (!this.failing) this.log.warn(`poll failed (will retry every interval): ${(e as Error).message}`);
      this.failing = true;
    } finally {
      this.running = false;
    }
  }
}
