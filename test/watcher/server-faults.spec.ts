import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually } from '../harness';
import { RedisKeys } from '@mailpush/store';
import { makeMessage } from '../support/factories';
import type { Pipeline } from '../support/pipeline.fixture';
import { assertExactlyOnce, linkSubject, startWatchPipeline, subjects, type Subject } from './watch-fixture';

const PASSWORD = 'server-faults-pw';
const USERS = ['kill', 'restart', 'uidvalidity', 'burst'].map((name) => ({ user: `srv-${name}`, password: PASSWORD }));

/**
 * Faults of the IMAP server itself (a real Dovecot): killed, restarted, a mailbox recreated under
 * a new UIDVALIDITY, and a burst of mail while nobody was connected.
 */
describe('IMAP server faults', { timeout: 120_000 }, () => {
  let p: Pipeline;
  let redis: Redis;
  const linked: Subject[] = [];

  before(async () => {
    p = await startWatchPipeline(USERS);
    redis = new Redis(p.redis.url);
  });

  after(async () => {
    await Promise.all(linked.map((s) => s.proxy.close()));
    await redis?.quit();
    await p?.stop();
  });

  async function subject(name: string): Promise<Subject> {
    const s = await linkSubject(p, { user: `srv-${name}`, password: PASSWORD });
    linked.push(s);
    return s;
  }

  const deliver = (user: string, subject: string) => p.dovecot.deliver(user, makeMessage({ subject }));
  const cursorOf = async (accountId: string) => {
    const [uidValidity, lastUid] = await redis.hmget(RedisKeys.cursor(accountId), 'uidValidity', 'lastUid');
    return { uidValidity: Number(uidValidity), lastUid: Number(lastUid) };
  };

  it('recovers when the server process is killed, with mail stored while it was down', async () => {
    const s = await subject('kill');
    const msg = subjects('kill');
    await deliver('srv-kill', msg('before'));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    await p.dovecot.kill();
    await s.waitFor('backoff');
    p.dovecot.deliverToMaildir('srv-kill', makeMessage({ subject: msg('while down') }));
    await p.dovecot.restart();
    await s.waitFor('idle');
    await deliver('srv-kill', msg('after'));
    await assertExactlyOnce(p, s, [msg('before'), msg('while down'), msg('after')]);
  });

  it('recovers from a server restart (BYE on shutdown)', async () => {
    const s = await subject('restart');
    const msg = subjects('restart');
    await deliver('srv-restart', msg('before'));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    const connection = s.proxy.open()[0];
    assert.ok(connection);
    await p.dovecot.restart();
    await deliver('srv-restart', msg('right after the restart'));
    await eventually(() =>
      assert.ok(s.proxy.connections().some((c) => c.id > connection.id && c.closedAt === undefined)),
    );
    await s.waitFor('idle');
    await deliver('srv-restart', msg('after'));
    await assertExactlyOnce(p, s, [msg('before'), msg('right after the restart'), msg('after')]);
  });

  it('restarts the cursor at the top on a new UIDVALIDITY, without notifying what is already there', async () => {
    const s = await subject('uidvalidity');
    const msg = subjects('uidvalidity');
    await deliver('srv-uidvalidity', msg('before'));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));
    const old = await cursorOf(s.accountId);

    // Keep the worker out until the new INBOX already holds mail: that mail is history to it.
    s.proxy.refuse(true);
    await p.dovecot.recreateInbox('srv-uidvalidity');
    await deliver('srv-uidvalidity', msg('history 1'));
    await deliver('srv-uidvalidity', msg('history 2'));
    s.proxy.refuse(false);
    await s.waitFor('idle');
    await eventually(async () => {
      const now = await cursorOf(s.accountId);
      assert.ok(now.uidValidity > old.uidValidity, 'new UIDVALIDITY recorded');
      assert.equal(now.lastUid, 2, 'cursor at the top of the new INBOX');
    });
    await deliver('srv-uidvalidity', msg('after'));
    await assertExactlyOnce(p, s, [msg('before'), msg('after')]);
  });

  it('turns a burst of 50 messages that arrived while disconnected into one summary', async () => {
    const s = await subject('burst');
    const msg = subjects('burst');
    await deliver('srv-burst', msg('before'));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    s.proxy.refuse(true);
    s.proxy.reset();
    await s.waitFor('backoff');
    for (let i = 0; i < 50; i += 1)
      p.dovecot.deliverToMaildir('srv-burst', makeMessage({ subject: msg(`burst ${i}`) }));
    s.proxy.refuse(false);
    await s.waitFor('idle');
    await eventually(() => assert.ok(s.pushes().has('50 new messages'), JSON.stringify([...s.pushes()])));
    await deliver('srv-burst', msg('after'));
    await assertExactlyOnce(p, s, [msg('before'), '50 new messages', msg('after')]);
    const cursor = await cursorOf(s.accountId);
    assert.equal(cursor.lastUid, 52);
  });
});
