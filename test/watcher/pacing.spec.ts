import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startFaultProxy, type FaultProxy } from '../harness';
import { createUser, type Pipeline } from '../support/pipeline.fixture';
import { startWatchPipeline } from './watch-fixture';

const LOGIN = { user: 'pace', password: 'pacing-pw' };
const ACCOUNTS = 20;
const PER_HOST = 5;

/** A worker restart with many accounts on one provider host ramps at the host's rate. */
describe('connect pacing', { timeout: 90_000 }, () => {
  let p: Pipeline;
  let proxy: FaultProxy;

  before(async () => {
    p = await startWatchPipeline([LOGIN], { MAILPUSH_CONNECT_RATE_PER_HOST: String(PER_HOST) });
    proxy = await startFaultProxy({ targetPort: p.dovecot.port });
  });

  after(async () => {
    await proxy?.close();
    await p?.stop();
  });

  it(`connects ${ACCOUNTS} accounts after a restart at ${PER_HOST}/s per host (burst ${PER_HOST}), not all at once`, async (t) => {
    const user = await createUser(p.admin);
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNTS; i += 1) {
      const res = await user.post<{ id: string }>('/v1/accounts', {
        email: `pace${i}@example.test`,
        imap: { host: proxy.host, port: proxy.port, tls: true },
        auth: { type: 'password', username: LOGIN.user, password: LOGIN.password },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    const allIdle = () =>
      eventually(
        async () => {
          const list = await user.get<{ accounts: { status: string }[] }>('/v1/accounts');
          assert.equal(list.body.accounts.filter((a) => a.status === 'idle').length, ACCOUNTS);
        },
        { timeoutMs: 20_000 },
      );
    await allIdle();

    const worker = p.roles.get('worker');
    assert.ok(worker);
    assert.equal(await worker.stop(), 0);
    const mark = Math.max(...proxy.connections().map((c) => c.id));
    const waiting = await user.get<{ accounts: { status: string }[] }>('/v1/accounts');
    assert.ok(
      waiting.body.accounts.every((a) => a.status === 'connecting'),
      'a stopped worker does not leave "idle" behind',
    );
    p.startRole('worker');
    await eventually(() => assert.equal(proxy.connections().filter((c) => c.id > mark).length, ACCOUNTS), {
      timeoutMs: 20_000,
    });
    await allIdle();
    const opened = proxy
      .connections()
      .filter((c) => c.id > mark)
      .map((c) => c.openedAt)
      .sort((a, b) => a - b);
    assert.equal(opened.length, ACCOUNTS, 'one connection per account, no retries');
    const first = opened[0] ?? 0;
    const offsets = opened.map((at) => at - first);
    t.diagnostic(`connection offsets after restart (ms): ${offsets.join(' ')}`);
    offsets.forEach((offset, k) => {
      const earliest = ((k + 1 - PER_HOST) / PER_HOST) * 1000;
      assert.ok(offset >= earliest - 100, `connection ${k} at +${offset} ms, before its token at +${earliest} ms`);
    });
    assert.ok((offsets.at(-1) ?? 0) >= 2_500, 'the ramp takes (20 - 5) / 5 = 3 s');
  });
});
