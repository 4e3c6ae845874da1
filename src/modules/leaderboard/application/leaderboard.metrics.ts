import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '../../../platform/metrics/metrics';

/**
 * What an operator watches on the write path: how writes end (a rising `duplicate` share means
 * redeliveries, `stale` means writes racing deletes), how long a batch takes to apply, and how old
 * a write is when it becomes visible (the async write path's freshness, seed: "seconds").
 */
@Injectable()
export class LeaderboardMetrics {
  readonly writes: Counter<'outcome'>;
  readonly applySeconds: Histogram;
  readonly visibilityLagSeconds: Histogram;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    const help = {
      writes: 'score writes taken from the log, by outcome (applied, duplicate, stale, rejected, malformed)',
      apply: 'time to apply one consumed batch to the rank store',
      lag: 'from the log append (the 202) to the write being applied, per batch (oldest message)',
    };
    this.writes = new Counter({ name: 'leaderboard_writes_total', help: help.writes, labelNames: ['outcome'], registers });
    const applyBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    this.applySeconds = new Histogram({ name: 'leaderboard_apply_batch_seconds', help: help.apply, buckets: applyBuckets, registers });
    const lagBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.visibilityLagSeconds = new Histogram({ name: 'leaderboard_write_visibility_lag_seconds', help: help.lag, buckets: lagBuckets, registers });
  }
}
