import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../../config/app-config';
import { KeyValueStore } from '../../../platform/kv/key-value-store.port';
import { EventBus, Subscription } from '../../../platform/messaging/event-bus.port';
import { groupName } from '../../../platform/messaging/topics';
import { LeaderboardMetrics } from '../application/leaderboard.metrics';
import { LeaderboardService, ScoreMessage } from '../application/leaderboard.service';

/**
 * Worker role: applies `leaderboard.scores` to the rank store. At-least-once delivery; the apply
 * script dedupes by log position (and by message id for caller-chosen ids), so a redelivered batch
 * changes nothing twice.
 *
 * Kafka is the log of record. The batch's offset is committed only after the Redis primaries have
 * passed its writes to a replica (WAIT): a failover that promotes a replica lacking some writes
 * also lacks their per-player log positions (they are written in the same script), and those
 * writes are still after the committed offset, so the consumer applies them again.
 */
@Injectable()
export class LeaderboardScoreConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('leaderboard.consumer');
  private sub?: Subscription;

  constructor(
    private readonly bus: EventBus,
    private readonly config: AppConfig,
    private readonly service: LeaderboardService,
    private readonly metrics: LeaderboardMetrics,
    private readonly kv: KeyValueStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.hasRole('worker')) return;
    this.sub = await this.bus.subscribe({
      groupId: groupName(this.config, 'leaderboard.scores-applier'),
      topics: [this.service.topic],
      // Applying a batch is a few Redis round trips plus an offset commit: with one partition at a
      // time the worker sat idle half the time (CPU profile). Order per partition, and so per
      // player, is kept.
      partitionsConcurrently: this.config.KAFKA_PARTITIONS,
      handleBatch: async (batch) => {
        const started = Date.now();
        const messages: (ScoreMessage & { position: string })[] = [];
        for (const m of batch.messages) {
          try {
            // The log position dedupes redeliveries (see APPLY_SCORES).
            messages.push({ ...(JSON.parse(m.value) as ScoreMessage), position: `${m.partition}:${m.offset}` });
          } catch {
            this.metrics.writes.inc({ outcome: 'malformed' });
            this.log.warn(`skipping malformed message at ${m.partition}/${m.offset}`);
          }
        }
        const outcomes = await this.service.applyMessages(messages);
        // Throws when a primary with a replica did not replicate in time: no commit, redelivery.
        await this.kv.waitForReplicas();
        const counts = new Map<string, number>();
        for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
        for (const [outcome, n] of counts) this.metrics.writes.inc({ outcome }, n);
        const done = Date.now();
        this.metrics.applySeconds.observe((done - started) / 1000);
        const oldest = batch.messages[0]?.timestamp;
        if (oldest) this.metrics.visibilityLagSeconds.observe(Math.max(0, done - oldest) / 1000);
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sub?.close();
    this.sub = undefined;
  }
}
