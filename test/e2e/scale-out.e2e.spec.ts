import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { rankedOwner } from '../../apps/worker/src/account-ranking';
import { eventually } from '../harness';
import { RedisKeys } from '@mailpush/store';
import type { ApiClient } from '../support/api-client';
import { makeApnsToken, makeMessage } from '../support/factories';
import { createUser, linkAccount, startPipeline, type Pipeline } from '../support/pipeline.fixture';
import { RoleProcess } from '../support/role-process';

const MAILBOXES = Array.from({ length: 6 }, (_, i) => ({ user: `scale${i}`, password: `scale-pw-${i}` }));

/** Several workers share the accounts by rendezvous ranking; a killed worker's accounts move to the living. */
describe('scale-out and failover', { timeout: 180_000 }, () => {
  let p: Pipeline;
  let raw: Redis;
  /** One person per mailbox, each with an iPhone: keeps every device far inside its burst budget. */
  const people: ApiClient[] = [];
  const iosTokens = new Set<string>();
  const workers = new Map<string, RoleProcess>();
  const accountIds: string[] = [];

  const startWorker = (id: string) =>
    workers.set(id, RoleProcess.start('worker', { ...p.env, MAILPUSH_WORKER_ID: id }));
  const holders = async () =>
    Promise.all(accountIds.map(async (id) => (await raw.get(RedisKeys.lease(id)))?.split('#')[0]));
  const pushedSubjects = () =>
    p.apns
      .delivered()
      .filter((r) => iosTokens.has(r.token))
      .map((r) => (r.payload as { aps: { alert: { body: string } } }).aps.alert.body);

  async function deliverRound(tag: string): Promise<string[]> {
    const subjects = MAILBOXES.map((m) => `${tag} for ${m.user}`);
    await Promise.all(MAILBOXES.map((m, i) => p.dovecot.deliver(m.user, makeMessage({ subject: subjects[i] }))));
    return subjects;
  }

  async function assertDeliveredOnce(subjects: string[]): Promise<void> {
    await eventually(
      () => {
        const pushed = pushedSubjects();
        for (const s of subjects) assert.ok(pushed.includes(s), `not pushed yet: ${s}`);
      },
      { timeoutMs: 45_000 },
    );
    await p.quiescent();
    const pushed = pushedSubjects();
    for (const s of subjects) assert.equal(pushed.filter((x) => x === s).length, 1, `pushed more than once: ${s}`);
  }

  before(async () => {
    p = await startPipeline({ users: MAILBOXES, roles: ['api', 'dispatcher'] });
    raw = new Redis(p.redis.url);
    startWorker('w1');
    for (const m of MAILBOXES) {
      const person = await createUser(p.admin);
      const token = makeApnsToken();
      iosTokens.add(token);
      assert.equal((await person.post('/v1/devices', { platform: 'ios', token, environment: 'sandbox' })).status, 201);
      accountIds.push(await linkAccount(person, p.dovecot, m));
      people.push(person);
    }
  });

  after(async () => {
    await Promise.all([...workers.values()].map((w) => w.stop()));
    await raw?.quit();
    await p?.stop();
  });

  it('spreads accounts over two workers by their ranking, one connection each', async () => {
    startWorker('w2');
    await eventually(
      async () => {
        const expected = accountIds.map((id) => rankedOwner(id, ['w1', 'w2']));
        assert.deepEqual(await holders(), expected);
      },
      { timeoutMs: 30_000 },
    );
    await eventually(async () => {
      const statuses = await Promise.all(
        accountIds.map(async (id, i) => (await people[i]!.get<{ status: string }>(`/v1/accounts/${id}`)).body.status),
      );
      assert.deepEqual(
        statuses,
        accountIds.map(() => 'idle'),
      );
    });
    await assertDeliveredOnce(await deliverRound('round 1'));
  });

  it('moves a killed worker’s accounts to the survivor; mail sent meanwhile arrives once', async () => {
    await workers.get('w1')!.kill();
    const subjects = await deliverRound('round 2');
    await eventually(
      async () =>
        assert.deepEqual(
          await holders(),
          accountIds.map(() => 'w2'),
        ),
      { timeoutMs: 30_000 },
    );
    await assertDeliveredOnce(subjects);
  });

  it('gives accounts back when the worker returns', async () => {
    startWorker('w1');
    await eventually(
      async () => {
        assert.deepEqual(
          await holders(),
          accountIds.map((id) => rankedOwner(id, ['w1', 'w2'])),
        );
      },
      { timeoutMs: 30_000 },
    );
    await assertDeliveredOnce(await deliverRound('round 3'));
    assert.equal(pushedSubjects().length, 3 * MAILBOXES.length);
  });
});
