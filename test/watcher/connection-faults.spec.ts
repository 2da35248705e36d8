import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness';
import { makeMessage } from '../support/factories';
import type { Pipeline } from '../support/pipeline.fixture';
import { assertExactlyOnce, linkSubject, startWatchPipeline, subjects, type Subject } from './watch-fixture';

const PASSWORD = 'fault-proxy-pw';
const USERS = ['reset', 'cut', 'blackhole', 'delay'].map((name) => ({ user: `net-${name}`, password: PASSWORD }));

/**
 * Network faults between the worker and a real Dovecot, injected by a TCP proxy. For each: the
 * account recovers by itself, and every message delivered before, during and after the fault is
 * pushed exactly once.
 */
describe('network faults between worker and IMAP server', { timeout: 120_000 }, () => {
  let p: Pipeline;
  const subjectsOf: Subject[] = [];

  before(async () => {
    p = await startWatchPipeline(USERS);
  });

  after(async () => {
    await Promise.all(subjectsOf.map((s) => s.proxy.close()));
    await p?.stop();
  });

  async function subject(name: string): Promise<Subject> {
    const s = await linkSubject(p, { user: `net-${name}`, password: PASSWORD });
    subjectsOf.push(s);
    return s;
  }

  const deliver = (user: string, subject: string) => p.dovecot.deliver(user, makeMessage({ subject }));

  for (const fault of ['reset', 'cut'] as const) {
    it(`recovers from a connection ${fault === 'reset' ? 'reset (RST)' : 'closed by the network (FIN)'}`, async () => {
      const s = await subject(fault);
      const msg = subjects(fault);
      await deliver(`net-${fault}`, msg('before'));
      await eventually(() => assert.ok(s.pushes().has(msg('before'))));

      // While refused, the worker cannot get back in: mail arriving now is caught up later.
      s.proxy.refuse(true);
      s.proxy[fault]();
      const down = await s.waitFor('backoff');
      assert.match(down.lastError ?? '', /connection|closed|connect to the mail server/i);
      assert.ok(down.nextAttemptAt, 'backoff says when the next attempt is');
      await deliver(`net-${fault}`, msg('during'));
      s.proxy.refuse(false);
      await s.waitFor('idle');
      await deliver(`net-${fault}`, msg('after'));
      await assertExactlyOnce(p, s, [msg('before'), msg('during'), msg('after')]);
    });
  }

  it('detects a black-holed connection with a NOOP probe and replaces it', async (t) => {
    const s = await subject('blackhole');
    const msg = subjects('blackhole');
    await deliver('net-blackhole', msg('before'));
    await eventually(() => assert.ok(s.pushes().has(msg('before'))));

    const [victim] = s.proxy.open();
    assert.ok(victim, 'the watcher holds a connection');
    const holedAt = Date.now();
    s.proxy.blackhole();
    // Dovecot stores and announces this one, but the announcement never reaches the worker.
    await deliver('net-blackhole', msg('during'));
    const replacement = await eventually(
      () => {
        const next = s.proxy.connections().find((c) => c.id > victim.id && c.mode === 'forwarding');
        assert.ok(next, 'no new connection yet');
        return next;
      },
      { timeoutMs: 10_000 },
    );
    const closed = s.proxy.connections().find((c) => c.id === victim.id);
    assert.equal(closed?.closedBy, 'client', 'the worker gave up on the silent connection itself');
    const detectedMs = (closed?.clientClosedAt ?? Infinity) - holedAt;
    const replacedMs = replacement.openedAt - holedAt;
    t.diagnostic(`black hole declared dead after ${detectedMs} ms, replaced after ${replacedMs} ms`);
    // probe after 0.8 s of silence (sampled every ~133 ms) + 0.8 s probe timeout, then reconnect.
    assert.ok(detectedMs < 4_000, `detected after ${detectedMs} ms`);
    assert.ok(replacedMs < 6_000, `replaced after ${replacedMs} ms`);
    await s.waitFor('idle');
    await deliver('net-blackhole', msg('after'));
    await assertExactlyOnce(p, s, [msg('before'), msg('during'), msg('after')]);
  });

  it('keeps a slow but live connection (probes answered late are still answered)', async () => {
    const s = await subject('delay');
    const msg = subjects('delay');
    s.proxy.delay(250);
    await deliver('net-delay', msg('one'));
    await deliver('net-delay', msg('two'));
    await assertExactlyOnce(p, s, [msg('one'), msg('two')]);
    assert.equal(s.proxy.connections().filter((c) => c.closedAt === undefined).length, 1);
    assert.equal((await s.account()).status, 'idle');
  });
});
