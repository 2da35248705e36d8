import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, startFaultProxy, startSentinelSet, type FaultProxy, type SentinelSetHandle } from '../harness';
import type { ApiClient } from '../support/api-client';
import { makeApnsToken, makeMessage } from '../support/factories';
import { createUser, startPipeline, type Pipeline } from '../support/pipeline.fixture';

const MAILBOXES = Array.from({ length: 4 }, (_, i) => ({ user: `sent${i}`, password: `sentinel-pw-${i}` }));
/** Leases outlive a failover by far: renewed every 8 s, provable for 20 s - 4 s after each renewal. */
const LEASE_ENV = { MAILPUSH_LEASE_TTL_MS: '24000', MAILPUSH_LEASE_MARGIN_MS: '4000' };

/**
 * Every role on Redis Sentinel (a primary, a replica, three sentinels); the primary is killed
 * while mail flows. The replica is promoted, every message is pushed exactly once, and no IMAP
 * connection is dropped (the failover is far shorter than the lease margin allows).
 */
describe('Redis Sentinel failover', { timeout: 240_000 }, () => {
  let sentinel: SentinelSetHandle;
  let p: Pipeline;
  let proxy: FaultProxy;
  const tokens = new Set<string>();
  const people: ApiClient[] = [];

  const pushed = () =>
    p.apns
      .delivered()
      .filter((r) => tokens.has(r.token))
      .map((r) => (r.payload as { aps: { alert: { body: string } } }).aps.alert.body);

  async function deliverRound(tag: string): Promise<string[]> {
    const subjects = MAILBOXES.map((m) => `${tag} for ${m.user}`);
    await Promise.all(MAILBOXES.map((m, i) => p.dovecot.deliver(m.user, makeMessage({ subject: subjects[i] }))));
    return subjects;
  }

  before(async () => {
    sentinel = await startSentinelSet();
    const sentinels = sentinel.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
    p = await startPipeline({
      users: MAILBOXES,
      env: LEASE_ENV,
      redis: {
        env: { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name },
        connect: () => new Redis({ sentinels, name: sentinel.name, maxRetriesPerRequest: null }),
        handle: {
          url: `redis://127.0.0.1:${sentinel.primary.port}`,
          port: sentinel.primary.port,
          stop: () => sentinel.stop(),
        },
      },
    });
    proxy = await startFaultProxy({ targetPort: p.dovecot.port });
    for (const m of MAILBOXES) {
      const person = await createUser(p.admin);
      const token = makeApnsToken();
      tokens.add(token);
      assert.equal((await person.post('/v1/devices', { platform: 'ios', token, environment: 'sandbox' })).status, 201);
      const account = await person.post<{ id: string }>('/v1/accounts', {
        email: `${m.user}@example.test`,
        imap: { host: proxy.host, port: proxy.port, tls: true },
        auth: { type: 'password', username: m.user, password: m.password },
      });
      assert.equal(account.status, 201, JSON.stringify(account.body));
      await eventually(
        async () =>
          assert.equal((await person.get<{ status: string }>(`/v1/accounts/${account.body.id}`)).body.status, 'idle'),
        { timeoutMs: 30_000 },
      );
      people.push(person);
    }
  });

  after(async () => {
    await proxy?.close();
    await p?.stop();
  });

  it('promotes the replica while mail flows: nothing lost, nothing twice, no IMAP connection dropped', async () => {
    const first = await deliverRound('before the failover');
    await eventually(() => first.forEach((s) => assert.ok(pushed().includes(s), `not pushed yet: ${s}`)), {
      timeoutMs: 30_000,
    });
    const connectionsBefore = proxy.connections().length;
    const openBefore = proxy.open().map((c) => c.id);
    assert.equal(openBefore.length, MAILBOXES.length, 'one IMAP connection per mailbox');

    const during = await deliverRound('while the primary dies');
    const failoverStarted = Date.now();
    await sentinel.primary.kill();
    const after = await deliverRound('while the sentinels elect');
    await eventually(async () => assert.equal(await sentinel.currentPrimaryPort(), sentinel.replica.port), {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'the replica was never promoted',
    });
    const failoverMs = Date.now() - failoverStarted;
    const promoted = await deliverRound('after the promotion');

    const all = [...first, ...during, ...after, ...promoted];
    await eventually(() => all.forEach((s) => assert.ok(pushed().includes(s), `not pushed: ${s}`)), {
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    await p.quiescent(60_000);
    for (const s of all) assert.equal(pushed().filter((x) => x === s).length, 1, `pushed more than once: ${s}`);
    assert.equal(pushed().length, all.length, 'nothing else was pushed');
    assert.equal(
      proxy.connections().length,
      connectionsBefore,
      'no new IMAP connection (no login) during the failover',
    );
    assert.deepEqual(
      proxy.open().map((c) => c.id),
      openBefore,
      `the same IMAP connections stayed open through a ${failoverMs} ms failover`,
    );
  });
});
