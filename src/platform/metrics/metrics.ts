import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * One registry per application instance (tests boot several apps in one process, and
 * prom-client's global registry refuses duplicate names). Modules register their own metrics
 * on it through the injected MetricsRegistry.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route pattern',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
  }
}
