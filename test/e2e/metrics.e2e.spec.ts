import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rankedOwner, slotsRankedTo } from '../../apps/worker/src/account-ranking';
import { SLOT_COUNT } from '@mailpush/store';
import { metricNames } from '../deploy/promql';
import { K8S_DIR, kustomize, type K8sObject } from '../deploy/kustomize';
import { eventually, freePort } from '../harness';
import type { ApiClient } from '../support/api-client';
import { makeApnsToken, makeFcmToken, makeMessage } from '../support/factories';
import { createUser, linkAccount, startPipeline, type Pipeline } from '../support/pipeline.fixture';
import { declares, parsePrometheusText, sample, type Scrape } from '../support/prometheus-text';
import { RoleProcess } from '../support/role-process';

const ALICE = { user: 'alice', password: 'alice-secret-pw' };
type Role = 'api' | 'worker' | 'dispatcher';

/** Metrics an alert reads that mailpush does not export: redis_exporter's (docs/operations.md#alerts). */
const EXTERNAL_METRICS = new Set(['redis_memory_used_bytes', 'redis_memory_max_bytes']);

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** Every PromQL expression an operator relies on: alerts, dashboard panels, the worker autoscaler's query. */
function operatorQueries(): { where: string; expr: string }[] {
  const objects = kustomize(join(K8S_DIR, 'overlays/production'));
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  type Rules = K8sObject & { spec: { groups: { rules: { alert?: string; expr: string }[] }[] } };
  const alerts = (byKind('PrometheusRule') as Rules[]).flatMap((r) =>
    r.spec.groups.flatMap((g) => g.rules.map((rule) => ({ where: `alert ${rule.alert ?? '?'}`, expr: rule.expr }))),
  );
  type Scaled = K8sObject & { spec: { triggers: { type: string; metadata: { query?: string } }[] } };
  const scaling = (byKind('ScaledObject') as Scaled[]).flatMap((s) =>
    s.spec.triggers
      .filter((t) => t.metadata.query)
      .map((t) => ({ where: `ScaledObject ${s.metadata.name}`, expr: t.metadata.query ?? '' })),
  );
  const dashboard = JSON.parse(
    readFileSync(join(K8S_DIR, 'components/monitoring/mailpush-dashboard.json'), 'utf8'),
  ) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const panels = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
  );
  assert.ok(alerts.length >= 9 && panels.length >= 20 && scaling.length === 1);
  return [...alerts, ...scaling, ...panels];
}

/**
 * Real processes (api, worker, dispatcher, a second api), real Redis and Dovecot, the push fakes:
 * after mail flowed, every role's ops port serves the series the runbook documents, with values
 * that match what happened, and every metric an alert, panel or autoscaler reads is exported.
 */
describe('metrics on every role after a message flowed', { timeout: 180_000 }, () => {
  let p: Pipeline;
  let user: ApiClient;
  let secondApi: RoleProcess;
  let accountId: string;
  const extraWorkers: RoleProcess[] = [];
  const ops = new Map<Role | 'api2', string>();
  const iosToken = makeApnsToken();
  const androidToken = makeFcmToken();
  const deadToken = makeApnsToken();

  const scrape = async (role: Role | 'api2'): Promise<Scrape> => {
    const res = await get(`${ops.get(role)}/metrics`);
    assert.equal(res.status, 200);
    return parsePrometheusText(res.text);
  };

  /** The cluster gauges, from whichever api process holds the collector lease. */
  const clusterScrape = async (): Promise<Scrape> => {
    const api = await scrape('api');
    return api.families.has('mailpush_accounts') ? api : scrape('api2');
  };

  const startWorker = async (id: string): Promise<{ proc: RoleProcess; scrape(): Promise<Scrape> }> => {
    const port = await freePort();
    const proc = RoleProcess.start('worker', { ...p.env, MAILPUSH_WORKER_ID: id, MAILPUSH_OPS_PORT: String(port) });
    extraWorkers.push(proc);
    return {
      proc,
      scrape: async () => parsePrometheusText((await get(`http://127.0.0.1:${port}/metrics`)).text),
    };
  };

  before(async () => {
    const ports = { api: await freePort(), worker: await freePort(), dispatcher: await freePort() };
    p = await startPipeline({
      users: [ALICE],
      env: { MAILPUSH_CLUSTER_METRICS_EVERY_MS: '1000' },
      roleEnv: {
        api: { MAILPUSH_OPS_PORT: String(ports.api) },
        worker: { MAILPUSH_OPS_PORT: String(ports.worker) },
        dispatcher: { MAILPUSH_OPS_PORT: String(ports.dispatcher) },
      },
    });
    for (const role of ['api', 'worker', 'dispatcher'] as const) ops.set(role, `http://127.0.0.1:${ports[role]}`);
    const api2Ops = await freePort();
    secondApi = RoleProcess.start('api', {
      ...p.env,
      PORT: String(await freePort()),
      MAILPUSH_OPS_PORT: String(api2Ops),
    });
    ops.set('api2', `http://127.0.0.1:${api2Ops}`);
    await eventually(async () => assert.equal((await get(`http://127.0.0.1:${api2Ops}/readyz`)).status, 200), {
      timeoutMs: 30_000,
    });

    user = await createUser(p.admin);
    for (const device of [
      { platform: 'ios', token: iosToken, environment: 'sandbox' },
      { platform: 'android', token: androidToken },
      { platform: 'ios', token: deadToken, environment: 'production' },
    ]) {
      assert.equal((await user.post('/v1/devices', device)).status, 201);
    }
    p.apns.markUnregistered(deadToken);
    accountId = await linkAccount(user, p.dovecot, ALICE);
    assert.equal((await p.admin.get('/v1/no-such-route')).status, 404);
    await p.dovecot.deliver('alice', makeMessage({ subject: 'Metrics, please' }));
    await eventually(() => {
      assert.equal(p.apns.delivered().filter((r) => r.token === iosToken).length, 1);
      assert.equal(p.fcm.delivered().filter((r) => r.token === androidToken).length, 1);
    });
    await p.quiescent();
  });

  after(async () => {
    await Promise.all(extraWorkers.map((w) => w.stop()));
    await secondApi?.stop();
    await p?.stop();
  });

  it('serves /healthz, /readyz and /metrics on each role’s ops port, and no /metrics on the public API port', async () => {
    for (const base of ops.values()) {
      assert.equal((await get(`${base}/healthz`)).status, 200);
      assert.equal((await get(`${base}/readyz`)).status, 200);
    }
    assert.equal((await p.admin.get('/metrics')).status, 404);
  });

  it('api: requests by route pattern and status, never by raw URL', async () => {
    const api = await scrape('api');
    const requests = api.samples.filter((s) => s.name === 'mailpush_http_requests_total');
    assert.ok(
      sample(api, 'mailpush_http_requests_total', { method: 'POST', route: '/v1/accounts', status: '201' }) >= 1,
    );
    assert.ok(
      sample(api, 'mailpush_http_requests_total', { method: 'POST', route: '/v1/devices', status: '201' }) >= 3,
    );
    assert.ok(sample(api, 'mailpush_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }) >= 1);
    assert.ok(
      sample(api, 'mailpush_http_requests_total', { method: 'GET', route: '/v1/accounts/:id', status: '200' }) >= 1,
    );
    for (const s of requests)
      assert.doesNotMatch(s.labels.route ?? '', /acc_|dev_|usr_|mpk_/, 'an id in a route label');
    assert.ok(
      sample(api, 'mailpush_http_request_duration_seconds_count', { method: 'POST', route: '/v1/accounts' }) >= 1,
    );
  });

  it('api: one process exports the cluster gauges, with the values of the cluster', async () => {
    await eventually(async () => {
      const api = await scrape('api');
      const api2 = await scrape('api2');
      const [leader, other] = api.families.has('mailpush_accounts') ? [api, api2] : [api2, api];
      assert.ok(!other.families.has('mailpush_accounts'), 'both api processes export the cluster gauges');
      assert.ok(!other.families.has('mailpush_queue_jobs'));
      assert.equal(sample(leader, 'mailpush_accounts', { status: 'idle' }), 1);
      assert.equal(sample(leader, 'mailpush_accounts', { status: 'auth_error' }), 0);
      assert.equal(sample(leader, 'mailpush_accounts_unowned'), 0);
      assert.equal(sample(leader, 'mailpush_workers_live'), 1);
      assert.equal(sample(leader, 'mailpush_dead_letters'), 0);
      for (const queue of ['mail-events', 'deliveries']) {
        assert.equal(sample(leader, 'mailpush_queue_jobs', { queue, state: 'waiting' }), 0);
        assert.equal(sample(leader, 'mailpush_queue_jobs', { queue, state: 'active' }), 0);
        assert.equal(sample(leader, 'mailpush_queue_oldest_waiting_seconds', { queue }), 0);
      }
      const collected = sample(leader, 'mailpush_cluster_collected_timestamp_seconds');
      assert.ok(Math.abs(Date.now() / 1000 - collected) < 10, `collected at ${collected}`);
    });
    for (const role of ['worker', 'dispatcher'] as const) {
      assert.ok(!(await scrape(role)).families.has('mailpush_accounts_unowned'), `${role} exports cluster gauges`);
    }
  });

  it('worker: accounts held, lease takeovers, mail events', async () => {
    const worker = await scrape('worker');
    assert.equal(sample(worker, 'mailpush_worker_accounts', { status: 'idle' }), 1);
    // Leases are per slot: the only worker holds every slot.
    assert.equal(sample(worker, 'mailpush_lease_takeovers_total'), SLOT_COUNT);
    assert.equal(sample(worker, 'mailpush_lease_handovers_total'), 0);
    assert.equal(sample(worker, 'mailpush_mail_events_total', { kind: 'message' }), 1);
    assert.ok(sample(worker, 'mailpush_imap_connect_attempts_total', { outcome: 'ok' }) >= 1);
    assert.equal(sample(worker, 'mailpush_imap_auth_failures_total'), 0);
  });

  it('dispatcher: deliveries, one APNs token mint, failures by platform and reason, both latency histograms', async () => {
    const d = await scrape('dispatcher');
    assert.equal(sample(d, 'mailpush_deliveries_total', { platform: 'ios', outcome: 'delivered' }), 1);
    assert.equal(sample(d, 'mailpush_deliveries_total', { platform: 'android', outcome: 'delivered' }), 1);
    assert.equal(sample(d, 'mailpush_apns_token_mints_total'), 1);
    assert.equal(
      sample(d, 'mailpush_push_failures_total', { platform: 'ios', class: 'permanent', reason: 'unregistered' }),
      1,
    );
    for (const platform of ['ios', 'android']) {
      const count = sample(d, 'mailpush_arrival_to_push_seconds_count', { platform });
      const sum = sample(d, 'mailpush_arrival_to_push_seconds_sum', { platform });
      assert.equal(count, 1);
      // INTERNALDATE has whole seconds: the mean is within a second or two of the real latency.
      assert.ok(sum >= 0 && sum < 15, `arrival to push ${sum} s`);
      const detected = sample(d, 'mailpush_delivery_latency_seconds_sum', { platform });
      assert.ok(detected >= 0 && detected < 5, `detection to push ${detected} s`);
    }
  });

  it('every metric an alert, a dashboard panel or the worker autoscaler reads is one the roles export', async () => {
    const scrapes = await Promise.all((['api', 'api2', 'worker', 'dispatcher'] as const).map((r) => scrape(r)));
    const missing: string[] = [];
    for (const { where, expr } of operatorQueries()) {
      for (const name of metricNames(expr)) {
        if (EXTERNAL_METRICS.has(name)) continue;
        if (!scrapes.some((s) => declares(s, name))) missing.push(`${where}: ${name}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('counts an account no worker holds, then lease takeovers and handovers as workers come and go', async () => {
    const original = p.roles.get('worker');
    assert.ok(original);
    await original.kill();
    await eventually(
      async () => {
        const cluster = await clusterScrape();
        assert.equal(sample(cluster, 'mailpush_accounts_unowned'), 1);
        assert.equal(sample(cluster, 'mailpush_workers_live'), 0);
      },
      { timeoutMs: 60_000 },
    );
    const a = await startWorker('metrics-a');
    await eventually(
      async () => {
        assert.equal(sample(await clusterScrape(), 'mailpush_accounts_unowned'), 0);
        assert.equal(sample(await a.scrape(), 'mailpush_lease_takeovers_total'), SLOT_COUNT);
      },
      { timeoutMs: 60_000 },
    );
    // A second worker the account ranks to (today's rendezvous ranking): the first hands it over.
    let bId = 'metrics-b';
    for (let i = 0; rankedOwner(accountId, ['metrics-a', bId]) !== bId; i++) bId = `metrics-b${i}`;
    const b = await startWorker(bId);
    const moved = slotsRankedTo(bId, ['metrics-a', bId]).size;
    await eventually(
      async () => {
        assert.equal(sample(await a.scrape(), 'mailpush_lease_handovers_total'), moved);
        assert.equal(sample(await b.scrape(), 'mailpush_lease_takeovers_total'), moved);
        assert.equal(sample(await clusterScrape(), 'mailpush_accounts', { status: 'idle' }), 1);
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(await b.proc.stop(), 0);
    assert.equal(await a.proc.stop(), 0);
  });
});
