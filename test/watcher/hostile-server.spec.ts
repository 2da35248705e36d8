import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, imapScript, type HostileKind, type ProxiedConnection } from '../harness';
import { RedisKeys } from '@mailpush/store';
import { makeMessage } from '../support/factories';
import type { Pipeline } from '../support/pipeline.fixture';
import { assertExactlyOnce, linkSubject, startWatchPipeline, subjects, type Subject } from './watch-fixture';

const PASSWORD = 'hostile-pw';
const USERS = ['junk', 'limit', 'alert'].map((name) => ({ user: `hs-${name}`, password: PASSWORD }));
/**
 * The worker reads at most one response of 2 MB (line 256 KB, literal 1 MB): what it took in from
 * a flood before hanging up is that plus socket and TLS buffers, far below the 256 MB on offer.
 */
const MAX_BYTES_TAKEN = 16 * 1024 * 1024;

/**
 * Servers that misbehave on purpose (scripted, behind the same proxy port the account uses): the
 * worker survives, bounds what it reads, reports a sanitized error, backs off as told.
 */
describe('hostile and throttling IMAP servers', { timeout: 120_000 }, () => {
  let p: Pipeline;
  const linked: Subject[] = [];

  let redis: Redis;

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
    const s = await linkSubject(p, { user: `hs-${name}`, password: PASSWORD });
    linked.push(s);
    return s;
  }

  const floods: { kind: HostileKind; when: 'greeting' | 'idle'; error: RegExp }[] = [
    { kind: 'endless-line', when: 'idle', error: /\((LineTooLarge|ResponseTooLarge)\)/ },
    { kind: 'giant-literal', when: 'idle', error: /\(LiteralTooLarge\)/ },
    { kind: 'literal-flood', when: 'idle', error: /\(ResponseTooLarge\)/ },
    { kind: 'junk', when: 'idle', error: /refuse to process \(unparseable lines\)/ },
    { kind: 'junk', when: 'greeting', error: /refuse to process \(unparseable lines\)/ },
  ];

  it('survives floods of junk, giant literals and endless lines, and recovers once the server behaves', async (t) => {
    const s = await subject('junk');
    const msg = subjects('hostile');
    await p.dovecot.deliver('hs-junk', makeMessage({ subject: msg('before') }));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    // The stand-in reports the real INBOX's UIDVALIDITY: another one would be a new mailbox.
    const [uidValidity, lastUid] = await redis.hmget(RedisKeys.cursor(s.accountId), 'uidValidity', 'lastUid');
    const mailbox = { uidValidity: Number(uidValidity), uidNext: Number(lastUid) + 1 };
    for (const flood of floods) {
      const seen = s.proxy.connections().length;
      s.proxy.impersonate(imapScript({ hostile: { kind: flood.kind, when: flood.when }, mailbox }));
      s.proxy.reset();
      const victim = await eventually(
        () => {
          const c = s.proxy
            .connections()
            .find((x: ProxiedConnection) => x.id > seen && x.mode === 'scripted' && x.closedAt !== undefined);
          assert.ok(c, `the worker has not hung up on the ${flood.kind} flood yet`);
          return c;
        },
        { timeoutMs: 10_000 },
      );
      assert.equal(victim.closedBy, 'client', `${flood.kind}: the worker hung up`);
      t.diagnostic(`${flood.kind} at ${flood.when}: hung up after ${victim.bytesToClient} bytes`);
      assert.ok(
        victim.bytesToClient < MAX_BYTES_TAKEN,
        `${flood.kind}: took ${victim.bytesToClient} bytes before hanging up`,
      );
      const account = await eventually(async () => {
        const a = await s.account();
        assert.equal(a.status, 'backoff');
        assert.match(a.lastError ?? '', flood.error);
        return a;
      });
      assert.ok((account.lastError ?? '').length < 200, 'a sanitized sentence, not the server text');
      assert.ok(!(account.lastError ?? '').includes('aaaa'));
      assert.ok(p.roles.get('worker')?.running, 'the worker is alive');
    }

    await p.dovecot.deliver('hs-junk', makeMessage({ subject: msg('during') }));
    s.proxy.impersonate(undefined);
    await s.waitFor('idle');
    await p.dovecot.deliver('hs-junk', makeMessage({ subject: msg('after') }));
    await assertExactlyOnce(p, s, [msg('before'), msg('during'), msg('after')]);
  });

  it('backs off for minutes on [LIMIT], and does not hammer the server meanwhile', async () => {
    const s = await subject('limit');
    const seen = s.proxy.connections().length;
    s.proxy.impersonate(
      imapScript({ loginNo: '[LIMIT] Too many concurrent logins for hs-limit (password hostile-pw)' }),
    );
    s.proxy.reset();
    // First the reset itself (a transient backoff), then the throttled login.
    const account = await eventually(async () => {
      const a = await s.account();
      assert.equal(a.status, 'backoff');
      assert.match(a.lastError ?? '', /slow down/);
      return a;
    });
    assert.ok(!(account.lastError ?? '').includes('hostile-pw'));
    const waitMs = Date.parse(account.nextAttemptAt ?? '') - Date.now();
    assert.ok(waitMs > 55_000, `next attempt in ${waitMs} ms: minutes, not seconds`);
    const attempts = s.proxy.connections().length - seen;
    // An absence is only seen over a window: several transient backoffs long.
    await delay(2_000);
    assert.equal(s.proxy.connections().length - seen, attempts, 'no further attempts while backing off');
    assert.equal(attempts, 1);
    const off = await s.user.request('POST', `/v1/accounts/${s.accountId}/disable`);
    assert.equal(off.status, 200);
  });

  it("shows the server's [ALERT], sanitized", async () => {
    const s = await subject('alert');
    s.proxy.impersonate(
      imapScript({ alert: `Maintenance tonight\u0007 at <b>22:00</b>; password ${PASSWORD} ${'x'.repeat(400)}` }),
    );
    s.proxy.reset();
    const account = await eventually(async () => {
      const a = await s.account();
      assert.equal(a.status, 'idle');
      assert.ok(a.alert, 'alert recorded');
      return a;
    });
    assert.match(account.alert ?? '', /^Maintenance tonight at b22:00\/b; password \*\*\* x+…$/);
    assert.ok((account.alert ?? '').length <= 200);
  });
});
