import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { K8S_DIR, find, kustomize, type K8sObject } from './kustomize';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
type PrometheusRule = K8sObject & { spec: { groups: { name: string; rules: Rule[] }[] } };

/** promtool ships in Debian's prometheus package, which scripts/bootstrap.sh installs. */
function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error)
    throw new Error(`promtool is needed (${run.error.message}): run scripts/bootstrap.sh (Debian package prometheus)`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('alert rules (promtool)', () => {
  let dir: string;
  let rules: PrometheusRule;
  const alert = (name: string): Rule => {
    const found = rules.spec.groups.flatMap((g) => g.rules).find((r) => r.alert === name);
    assert.ok(found, `no alert ${name}`);
    return found;
  };
  /** What promtool renders for an alert: its labels and annotations (static summaries only). */
  const expected = (name: string, labels: Record<string, string> = {}) => ({
    exp_labels: { ...alert(name).labels, ...labels },
    exp_annotations: alert(name).annotations,
  });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailpush-rules-'));
    rules = find(kustomize(join(K8S_DIR, 'overlays/production')), 'PrometheusRule', 'mailpush') as PrometheusRule;
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rules.spec.groups }));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the rules (promtool check rules)', () => {
    const check = promtool(['check', 'rules', 'rules.yaml'], dir);
    assert.equal(check.status, 0, check.output);
    assert.match(check.output, /SUCCESS: 9 rules found/);
  });

  it('fires each alert on the situation it names, and not before its `for` (promtool test rules)', () => {
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [{ series: 'mailpush_workers_live{pod="api-1"}', values: '1 1 0 0 0 0 0' }],
          alert_rule_test: [
            { eval_time: '3m', alertname: 'MailpushNoLiveWorkers', exp_alerts: [] },
            { eval_time: '5m', alertname: 'MailpushNoLiveWorkers', exp_alerts: [expected('MailpushNoLiveWorkers')] },
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: 'mailpush_accounts_unowned{pod="api-1"}', values: '0 3 3 3 3 3 3 3 3' },
            { series: 'mailpush_cluster_collected_timestamp_seconds{pod="api-1"}', values: '0+60x8' },
          ],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'MailpushAccountsUnowned', exp_alerts: [] },
            {
              eval_time: '7m',
              alertname: 'MailpushAccountsUnowned',
              exp_alerts: [
                {
                  exp_labels: alert('MailpushAccountsUnowned').labels,
                  exp_annotations: {
                    ...alert('MailpushAccountsUnowned').annotations,
                    summary: '3 active mailboxes have had no worker for 5 minutes: their mail is not notified.',
                  },
                },
              ],
            },
            { eval_time: '7m', alertname: 'MailpushClusterMetricsMissing', exp_alerts: [] },
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: 'mailpush_cluster_collected_timestamp_seconds{pod="api-1"}', values: '0 60 _ _ _ _ _ _ _ _' },
          ],
          alert_rule_test: [
            {
              eval_time: '9m',
              alertname: 'MailpushClusterMetricsMissing',
              exp_alerts: [expected('MailpushClusterMetricsMissing')],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: 'redis_memory_used_bytes{instance="r"}', values: '900+0x10' },
            { series: 'redis_memory_max_bytes{instance="r"}', values: '1000+0x10' },
            { series: 'redis_memory_used_bytes{instance="unlimited"}', values: '900+0x10' },
            { series: 'redis_memory_max_bytes{instance="unlimited"}', values: '0+0x10' },
          ],
          alert_rule_test: [
            {
              eval_time: '6m',
              alertname: 'MailpushRedisMemoryNearLimit',
              exp_alerts: [
                {
                  exp_labels: alert('MailpushRedisMemoryNearLimit').labels,
                  exp_annotations: {
                    ...alert('MailpushRedisMemoryNearLimit').annotations,
                    summary: 'Redis is at 90% of maxmemory; with noeviction, writes fail when it is full.',
                  },
                },
              ],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [
            {
              series: 'mailpush_queue_oldest_waiting_seconds{queue="deliveries",pod="api-1"}',
              values: '0 30 90 150 210 270',
            },
            { series: 'mailpush_queue_oldest_waiting_seconds{queue="mail-events",pod="api-1"}', values: '0 0 0 0 0 0' },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: 'MailpushQueueStalled', exp_alerts: [] },
            {
              eval_time: '4m',
              alertname: 'MailpushQueueStalled',
              exp_alerts: [
                {
                  exp_labels: { ...alert('MailpushQueueStalled').labels, queue: 'deliveries' },
                  exp_annotations: {
                    ...alert('MailpushQueueStalled').annotations,
                    summary: 'The oldest job in deliveries has waited 3m 30s: dispatchers are not keeping up.',
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'rules.test.yaml'), stringify(tests));
    const run = promtool(['test', 'rules', 'rules.test.yaml'], dir);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });
});
