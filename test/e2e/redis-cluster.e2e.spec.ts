import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { startCluster, type ClusterHandle } from '../harness';
import { eventually } from '../harness';
import { makeApnsToken, makeMessage } from '../support/factories';
import { createUser, linkAccount, startPipeline, type Pipeline } from '../support/pipeline.fixture';

const MAILBOXES = Array.from({ length: 3 }, (_, i) => ({ user: `clu${i}`, password: `cluster-pw-${i}` }));

/** The whole pipeline (api, worker, dispatcher) on a real three-primary Redis Cluster. */
describe('Redis Cluster', { timeout: 180_000 }, () => {
  let cluster: ClusterHandle;
  let p: Pipeline;

  before(async () => {
    cluster = await startCluster();
    const nodes = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    p = await startPipeline({
      users: MAILBOXES,
      redis: {
        env: { REDIS_CLUSTER_NODES: cluster.nodeList },
        // BullMQ takes a Cluster client where it takes a Redis one.
        connect: () => new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } }) as unknown as Redis,
        handle: { url: `redis://127.0.0.1:${nodes[0]!.port}`, port: nodes[0]!.port, stop: () => cluster.stop() },
        queuePrefix: '{mailpush}',
      },
    });
  });

  after(async () => {
    await p?.stop();
  });

  it('links accounts, watches them and pushes each message once, with keys spread over the primaries', async () => {
    const tokens: string[] = [];
    for (const m of MAILBOXES) {
      const person = await createUser(p.admin);
      const token = makeApnsToken();
      tokens.push(token);
      assert.equal((await person.post('/v1/devices', { platform: 'ios', token, environment: 'sandbox' })).status, 201);
      await linkAccount(person, p.dovecot, m);
    }
    const subjects = MAILBOXES.map((m) => `cluster mail for ${m.user}`);
    await Promise.all(MAILBOXES.map((m, i) => p.dovecot.deliver(m.user, makeMessage({ subject: subjects[i] }))));
    const bodies = () =>
      p.apns
        .delivered()
        .filter((r) => tokens.includes(r.token))
        .map((r) => (r.payload as { aps: { alert: { body: string } } }).aps.alert.body);
    await eventually(() => subjects.forEach((s) => assert.ok(bodies().includes(s), `not pushed yet: ${s}`)), {
      timeoutMs: 30_000,
    });
    await p.quiescent();
    assert.deepEqual(bodies().sort(), [...subjects].sort(), 'each message exactly once');

    const sizes = await Promise.all(
      cluster.nodes.map(async (n) => {
        const c = new Redis(n.port, '127.0.0.1');
        try {
          return await c.dbsize();
        } finally {
          c.disconnect();
        }
      }),
    );
    assert.ok(sizes.filter((n) => n > 0).length >= 2, `keys on more than one primary: ${sizes.join(', ')}`);
  });
});
