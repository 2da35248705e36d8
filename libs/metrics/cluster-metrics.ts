import { Gauge, Registry } from 'prom-client';

/**
 * Cluster-wide gauges (the same value whichever process reads it). Exported by one process only,
 * the api replica holding the collector lease, so that summing over pods never multiplies them;
 * every other process serves this registry empty.
 */
export const clusterRegistry = new Registry();

export const clusterMetrics = {
  queueJobs: new Gauge({
    name: 'mailpush_queue_jobs',
    help: 'Jobs per BullMQ queue and state, across the cluster',
    labelNames: ['queue', 'state'] as const,
    registers: [clusterRegistry],
  }),
  queueOldestWaiting: new Gauge({
    name: 'mailpush_queue_oldest_waiting_seconds',
    help: 'Age of the oldest waiting job per queue, from when it became due (0 when none waits)',
    labelNames: ['queue'] as const,
    registers: [clusterRegistry],
  }),
  accounts: new Gauge({
    name: 'mailpush_accounts',
    help: 'Accounts across the cluster, by status',
    labelNames: ['status'] as const,
    registers: [clusterRegistry],
  }),
  accountsUnowned: new Gauge({
    name: 'mailpush_accounts_unowned',
    help: 'Accounts that should be watched (not disabled, not auth_error) and that no worker holds',
    registers: [clusterRegistry],
  }),
  workersLive: new Gauge({
    name: 'mailpush_workers_live',
    help: 'Workers whose heartbeat is within the lease TTL',
    registers: [clusterRegistry],
  }),
  deadLetters: new Gauge({
    name: 'mailpush_dead_letters',
    help: 'Dead letters waiting in the admin list (replay or discard them)',
    registers: [clusterRegistry],
  }),
  collectedAt: new Gauge({
    name: 'mailpush_cluster_collected_timestamp_seconds',
    help: 'When the cluster gauges were last computed (Unix time)',
    registers: [clusterRegistry],
  }),
};

/** Whether this process currently exports the cluster gauges (it holds the collector lease). */
export const clusterExport = { active: false };

/** Everything this process exports, in Prometheus text format. */
export async function renderMetrics(processRegistry: Registry): Promise<string> {
  const own = await processRegistry.metrics();
  return clusterExport.active ? `${own}\n${await clusterRegistry.metrics()}` : own;
}
