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
  imapReconnects: new Counter({
    name: 'mailpush_imap_reconnects_total',
    help: 'IMAP connections that ended and were scheduled to reconnect, by error class and code',
    labelNames: ['class', 'code'] as const,
    registers: [metricsRegistry],
  }),
  imapAuthFailures: new Counter({
    name: 'mailpush_imap_auth_failures_total',
    help: 'Accounts stopped in auth_error (credentials rejected); not retried until they change',
    registers: [metricsRegistry],
  }),
  oauthRefreshes: new Counter({
    name: 'mailpush_oauth_refreshes_total',
    help: 'OAuth2 access token refreshes by outcome (ok, reauth_required, oauth_server_error, ...)',
    labelNames: ['outcome'],
    registers: [metricsRegistry],
  }),
  imapProbeFailures: new Counter({
    name: 'mailpush_imap_probe_failures_total',
    help: 'NOOP liveness probes left unanswered: connections declared dead and replaced',
    registers: [metricsRegistry],
  }),
  imapConnectPacing: new Histogram({
    name: 'mailpush_imap_connect_pacing_seconds',
    help: 'Time a connection attempt waited for the per-worker and per-host connect token buckets',
    buckets: [0, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
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
  burstSuppressed: new Counter({
    name: 'mailpush_burst_suppressed_total',
    help: 'Per-device notifications folded into a burst summary instead of sent one by one',
    registers: [metricsRegistry],
  }),
  deadLetters: new Counter({
    name: 'mailpush_dead_letters_total',
    help: 'Deliveries that exhausted their attempts, by platform',
    labelNames: ['platform'] as const,
    registers: [metricsRegistry],
  }),
  pushInFlight: new Gauge({
    name: 'mailpush_push_requests_in_flight',
    help: 'Push requests in flight, by transport',
    labelNames: ['transport'] as const,
    registers: [metricsRegistry],
  }),
  deliveryLatency: new Histogram({
    name: 'mailpush_delivery_latency_seconds',
    help: 'From the worker seeing a message to the push service accepting it',
    labelNames: ['platform'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [metricsRegistry],
  }),
  // --- issue 12: what on-call needs (see docs/operations.md#metrics) ---
  arrivalToPush: new Histogram({
    name: 'mailpush_arrival_to_push_seconds',
    help: "From the message's arrival at the mail server (IMAP INTERNALDATE, 1 s resolution) to the push service accepting it",
    labelNames: ['platform'] as const,
    buckets: [0.5, 1, 2, 3, 5, 10, 20, 30, 60, 300, 1800],
    registers: [metricsRegistry],
  }),
  pushFailures: new Counter({
    name: 'mailpush_push_failures_total',
    help: 'Push attempts that did not deliver, by platform, error class and reason code',
    labelNames: ['platform', 'class', 'reason'] as const,
    registers: [metricsRegistry],
  }),
  apnsTokenMints: new Counter({
    name: 'mailpush_apns_token_mints_total',
    help: 'APNs provider tokens (JWT) this process minted and shared through Redis',
    registers: [metricsRegistry],
  }),
  leaseTakeovers: new Counter({
    name: 'mailpush_lease_takeovers_total',
    help: 'Slot leases this worker took (each slot holds a share of the accounts)',
    registers: [metricsRegistry],
  }),
  leaseHandovers: new Counter({
    name: 'mailpush_lease_handovers_total',
    help: 'Slot leases this worker released to the worker the slot ranks to (join, leave, shutdown)',
    registers: [metricsRegistry],
  }),
  httpRequests: new Counter({
    name: 'mailpush_http_requests_total',
    help: 'API requests, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [metricsRegistry],
  }),
  httpDuration: new Histogram({
    name: 'mailpush_http_request_duration_seconds',
    help: 'API request duration, by method and route pattern (SSE streams count until they close)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [metricsRegistry],
  }),
  slotsHeld: new Gauge({
    name: 'mailpush_worker_slots',
    help: 'Slots whose lease this worker holds',
    registers: [metricsRegistry],
  }),
};
