import type { Registry } from 'prom-client';
import type { RequestObserver } from './request-record.js';

/** Distinct door/action pairs kept apart; beyond it, new actions count as `other` (callers choose action names). */
const MAX_SERIES = 2000;
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

class Series {
  readonly byStatus = new Map<number, number>();
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  received = 0;
  sent = 0;

  constructor(
    readonly door: string,
    readonly action: string,
  ) {}
}

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * Request counts, latency and bytes by door and action. Each request adds to plain numbers of a
 * cached series (a map lookup and a few additions); prom-client formats them only when scraped.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Map<string, Series>>();
  private size = 0;

  constructor(registry: Registry) {
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => Value[]) =>
      registry.registerMetric({ name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset() {} } as never);
    metric('berth_http_requests_total', 'HTTP requests answered, by door, action and status.', 'counter', () =>
      this.all().flatMap((s) => [...s.byStatus].map(([status, n]) => ({ labels: { door: s.door, action: s.action, status }, value: n }))),
    );
    metric('berth_http_request_duration_seconds', 'Time from request to the end of its response, by door and action.', 'histogram', () =>
      this.all().flatMap((s) => {
        const labels = { door: s.door, action: s.action };
        let cumulative = 0;
        const buckets = [...LATENCY_BUCKETS, '+Inf'].map((le, i) => {
          cumulative += s.buckets[i]!;
          return { labels: { ...labels, le }, value: cumulative, metricName: 'berth_http_request_duration_seconds_bucket' };
        });
        return [
          ...buckets,
          { labels, value: s.sum, metricName: 'berth_http_request_duration_seconds_sum' },
          { labels, value: s.count, metricName: 'berth_http_request_duration_seconds_count' },
        ];
      }),
    );
    metric('berth_http_received_bytes_total', 'Bytes received (headers and bodies), by door and action.', 'counter', () =>
      this.all().map((s) => ({ labels: { door: s.door, action: s.action }, value: s.received })),
    );
    metric('berth_http_sent_bytes_total', 'Bytes sent (headers and bodies), by door and action.', 'counter', () =>
      this.all().map((s) => ({ labels: { door: s.door, action: s.action }, value: s.sent })),
    );
  }

  readonly observer: RequestObserver = (record, figures) => {
    const s = this.seriesFor(record.door, record.action ?? '');
    s.byStatus.set(figures.status, (s.byStatus.get(figures.status) ?? 0) + 1);
    const d = figures.durationSeconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && d > LATENCY_BUCKETS[i]!) i++;
    s.buckets[i]!++;
    s.sum += d;
    s.count++;
    s.received += figures.bytesIn;
    s.sent += figures.bytesOut;
  };

  private seriesFor(door: string, action: string): Series {
    let byAction = this.series.get(door);
    if (!byAction) this.series.set(door, (byAction = new Map()));
    let s = byAction.get(action);
    if (s) return s;
    if (this.size >= MAX_SERIES) action = 'other';
    s = byAction.get(action);
    if (!s) {
      byAction.set(action, (s = new Series(door, action)));
      this.size++;
    }
    return s;
  }

  private all(): Series[] {
    return [...this.series.values()].flatMap((m) => [...m.values()]);
  }
}
