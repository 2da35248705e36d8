import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, startFaultProxy, type FaultProxy } from '../harness';
import type { ApiClient } from '../support/api-client';
import { makeApnsToken } from '../support/factories';
import { createUser, startPipeline, type Pipeline } from '../support/pipeline.fixture';

/**
 * Production defaults are minutes; these make every fault play out in a second or two. The
 * defaults themselves are measured by `npm run bench:blackhole`.
 */
export const FAST_WATCH_ENV: Record<string, string> = {
  MAILPUSH_IMAP_CONNECT_TIMEOUT_MS: '3000',
  MAILPUSH_IMAP_PROBE_AFTER_MS: '800',
  MAILPUSH_IMAP_PROBE_TIMEOUT_MS: '800',
  MAILPUSH_IMAP_POLL_INTERVAL_MS: '400',
  MAILPUSH_IMAP_REIDLE_MS: '30000',
  MAILPUSH_RECONNECT_BASE_MS: '100',
  MAILPUSH_RECONNECT_MAX_MS: '800',
  // The dispatcher's per-device burst folding is not what these specs look at.
  MAILPUSH_BURST_BUDGET: '20',
};

export interface AccountView {
  id: string;
  status: string;
  lastError: string | null;
  nextAttemptAt: string | null;
  lastEventAt: string | null;
  alert: string | null;
  options: { notifySeen: boolean };
}

export async function startWatchPipeline(
  users: { user: string; password: string }[],
  env: Record<string, string> = {},
): Promise<Pipeline> {
  return startPipeline({ users, env: { ...FAST_WATCH_ENV, ...env } });
}

/** A person with one iPhone and one mailbox linked through its own fault proxy. */
export interface Subject {
  user: ApiClient;
  token: string;
  proxy: FaultProxy;
  accountId: string;
  account(): Promise<AccountView>;
  waitFor(status: string, timeoutMs?: number): Promise<AccountView>;
  /** Subjects of every push this person's phone received, with how many times each. */
  pushes(): Map<string, number>;
}

export async function linkSubject(
  p: Pipeline,
  login: { user: string; password: string },
  options: { port?: number; notifySeen?: boolean; expect?: string } = {},
): Promise<Subject> {
  const proxy = await startFaultProxy({ targetPort: options.port ?? p.dovecot.port });
  const user = await createUser(p.admin);
  const token = makeApnsToken();
  const device = await user.post('/v1/devices', { platform: 'ios', token, environment: 'sandbox' });
  assert.equal(device.status, 201, JSON.stringify(device.body));
  const created = await user.post<{ id: string }>('/v1/accounts', {
    email: `${login.user}@example.test`,
    imap: { host: proxy.host, port: proxy.port, tls: true },
    auth: { type: 'password', username: login.user, password: login.password },
    ...(options.notifySeen !== undefined ? { options: { notifySeen: options.notifySeen } } : {}),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const accountId = created.body.id;
  const account = async (): Promise<AccountView> => {
    const res = await user.get<AccountView>(`/v1/accounts/${accountId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const waitFor = (status: string, timeoutMs = 15_000): Promise<AccountView> =>
    eventually(
      async () => {
        const a = await account();
        assert.equal(a.status, status, JSON.stringify(a));
        return a;
      },
      { timeoutMs, message: `account ${accountId} to be ${status}` },
    );
  await waitFor(options.expect ?? 'idle');
  return {
    user,
    token,
    proxy,
    accountId,
    account,
    waitFor,
    pushes: () => pushesBySubject(p, token),
  };
}

/**
 * Every push to `token`, counted by its text: the alert body (the subject, for a `full` device),
 * or the title when the body is empty (some summary renderings put "7 new messages" there).
 */
export function pushesBySubject(p: Pipeline, token: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of p.apns.delivered()) {
    if (r.token !== token) continue;
    const alert = (r.payload as { aps?: { alert?: { body?: string; title?: string } } } | undefined)?.aps?.alert;
    const text = alert?.body || alert?.title || '';
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

/** Unique subjects for one scenario's messages. */
export function subjects(label: string): (phase: string) => string {
  const tag = randomBytes(3).toString('hex');
  return (phase) => `${label} ${phase} ${tag}`;
}

/**
 * Waits until each of `expected` was pushed, lets both queues drain, then asserts that each was
 * pushed exactly once and nothing else reached this phone.
 */
export async function assertExactlyOnce(
  p: Pipeline,
  s: Subject,
  expected: string[],
  timeoutMs = 20_000,
): Promise<void> {
  await eventually(
    () => {
      const got = s.pushes();
      for (const subject of expected)
        assert.ok(got.has(subject), `not pushed yet: ${subject}; got ${JSON.stringify([...got])}`);
    },
    { timeoutMs, message: 'waiting for every message to be pushed' },
  );
  await p.quiescent();
  assert.deepEqual(
    [...s.pushes()].sort(),
    expected.map((subject) => [subject, 1] as [string, number]).sort(),
    'every message exactly once, nothing else',
  );
}
