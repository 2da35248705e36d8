import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; every metric mailpush exports is declared here. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'mailpush_' });

export const metrics = {
  /** Accounts this worker holds, by live status. */
  accountsByStatus: new Gauge({
    name: 'mailpush_worker_accounts',
    help: 'Accounts held by this worker, by status',
    labelNames: ['status'] as const,
    registers: [metricsRegistry],
  }),
  imapConnects: new Counter({
    name: 'mailpush_imap_connect_attempts_total',
    help: 'IMAP connection attempts, by outcome code',
    labelNames: ['outcome'] as const,
    registers: [metricsRegistry],
  }),
  mailEvents: new Counter({
    name: 'mailpush_mail_events_total',
    help: 'New-mail events enqueued, by kind (message or summary)',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
  deliveries: new Counter({
    name: 'mailpush_deliveries_total',
    help: 'Push deliveries, by platform and outcome',
    labelNames: ['platform', 'outcome'] as const,
    registers: [metricsRegistry],
  }),
  deliveryLatency: new Histogram({
    name: 'mailpush_delivery_latency_seconds',
    help: 'From the worker seeing a message to the push service accepting it',
    labelNames: ['platform'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [metricsRegistry],
  }),
};
