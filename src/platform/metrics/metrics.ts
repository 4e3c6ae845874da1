import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per application instance (tests boot several apps in one process, and
 * prom-client's global registry refuses duplicate names). Modules register their own metrics
 * on it through the injected MetricsRegistry.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  readonly httpDuration = new RequestHistogram('http_request_duration_seconds', 'HTTP request latency by route pattern');

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(this.httpDuration as never);
  }
}

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
type Series = { labels: { method: string; route: string; status: string }; counts: number[]; count: number; sum: number };

/**
 * The histogram every request writes, exposed as prom-client's Histogram is (name_bucket{le,...},
 * _sum, _count, series in first-seen order). prom-client's observe() validates and hashes the
 * label set on every call; here a request finds its series by one string key (issue 14).
 */
export class RequestHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: { method, route, status: String(status) }, counts: BOUNDS.map(() => 0), count: 0, sum: 0 }));
    const i = BOUNDS.findIndex((le) => seconds <= le);
    if (i >= 0) s.counts[i]++;
    s.count++;
    s.sum += seconds;
  }

  /** What Registry.metrics() prints. */
  getForPromString() {
    const bucket = `${this.name}_bucket`;
    const values = [...this.series.values()].flatMap(({ labels: sharedLabels, counts, count, sum }) => {
      let acc = 0;
      return [
        ...BOUNDS.map((le, i) => ({ metricName: bucket, labels: { le } as object, sharedLabels, value: (acc += counts[i]) })),
        { metricName: bucket, labels: { le: '+Inf' }, sharedLabels, value: count },
        { metricName: `${this.name}_sum`, labels: {}, sharedLabels, value: sum },
        { metricName: `${this.name}_count`, labels: {}, sharedLabels, value: count },
      ];
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** What Registry.getMetricsAsJSON() returns. */
  get() {
    const data = this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) };
  }

  reset(): void {
    this.series.clear();
  }
}
