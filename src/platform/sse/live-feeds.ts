import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PolledFeeds } from './polled-feed';
import { openSse } from './sse-response';

/** A view a stream sends: the feed it shares with every other watcher of the same key, and how to load it. */
export interface LiveView {
  key: string;
  load: () => Promise<unknown>;
}

/**
 * The app's live views behind its server-sent-event routes: one poll a second per view however
 * many browsers watch it, each view sent first on connect and then whenever it changed. Every open
 * stream is ended at shutdown, so the server can close.
 */
@Injectable()
export class LiveFeeds implements OnModuleDestroy {
  private readonly feeds = new PolledFeeds<unknown>('live-feeds', 1000);

  /** Turns the request into a stream of `views`, each as events named by its key in the record. */
  stream(req: FastifyRequest, reply: FastifyReply, views: Record<string, LiveView>): void {
    const stops: (() => void)[] = [];
    const sse = openSse(req, reply, () => stops.forEach((stop) => stop()));
    for (const [event, view] of Object.entries(views)) {
      stops.push(this.feeds.subscribe(view.key, view.load, (v) => sse.send(event, v), sse.end));
    }
  }

  onModuleDestroy(): void {
    this.feeds.close();
  }
}
