import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, freePorts } from '../harness';
import { makeApnsToken } from '../support/factories';
import { createUser, startPipeline, type Pipeline } from '../support/pipeline.fixture';
import { dumpRedis, keysHolding } from '../support/redis-dump';
import { RoleProcess } from '../support/role-process';
import { http } from './security.fixture';

const tag = randomBytes(5).toString('hex');
/** Unique strings planted where secrets and content go; none may surface anywhere else. */
const MARKERS = {
  password: `pwMARK${tag}`,
  deviceToken: `fcm_devMARK${tag}_${randomBytes(12).toString('base64url')}:APA91b${randomBytes(30).toString('base64url')}`,
  failingDeviceToken: `fcm_deadMARK${tag}_${randomBytes(12).toString('base64url')}:APA91b${randomBytes(30).toString('base64url')}`,
  subject: `subjMARK${tag}`,
  sender: `senderMARK${tag}@example.com`,
  // OAuth refresh and access tokens: test/oauth/oauth.e2e.spec.ts checks every token its local
  // OAuth2 server issued (rotations included) against a full Redis dump and every log line.
};
const LOGIN = { user: 'marked', password: MARKERS.password };

/**
 * Issue 9: a password, push tokens, a sender and a subject travel the whole flow with debug
 * logging on; none appears in a log line, an error body, a metric, or anywhere in Redis.
 */
describe('secret markers through the whole flow', { timeout: 120_000 }, () => {
  let p: Pipeline;
  let raw: Redis;
  const roles: RoleProcess[] = [];
  const opsUrls: string[] = [];
  const bodies: string[] = [];

  before(async () => {
    const ports = await freePorts(3);
    p = await startPipeline({
      users: [LOGIN],
      roles: ['api'],
      env: { LOG_LEVEL: 'debug', MAILPUSH_DELIVERY_ATTEMPTS: '2' },
      // Each role serves /metrics on its own ops port.
      roleEnv: { api: { MAILPUSH_OPS_PORT: String(ports[2]) } },
    });
    opsUrls.push(`http://127.0.0.1:${ports[2]}`);
    for (const [i, role] of (['worker', 'dispatcher'] as const).entries()) {
      roles.push(RoleProcess.start(role, { ...p.env, MAILPUSH_OPS_PORT: String(ports[i]) }));
      opsUrls.push(`http://127.0.0.1:${ports[i]}`);
    }
    raw = new Redis(p.redis.url);
  });

  after(async () => {
    await Promise.all(roles.map((r) => r.stop()));
    await raw?.quit();
    await p?.stop();
  });

  it('delivers the marked message, and keeps every marker out of logs, errors, metrics and Redis', async () => {
    const user = await createUser(p.admin);
    const record = async <T>(res: Promise<{ status: number; body: T }>) => {
      const answer = await res;
      bodies.push(JSON.stringify(answer.body));
      return answer;
    };
    // Errors first: a refused password, a malformed token, each carrying a marker.
    await record(
      user.post('/v1/accounts', {
        email: 'marked@example.test',
        imap: { host: p.dovecot.host, port: p.dovecot.port, tls: true },
        auth: { type: 'password', username: LOGIN.user, password: `${MARKERS.password}x` },
      }),
    );
    await record(user.post('/v1/devices', { platform: 'ios', token: MARKERS.deviceToken }));
    await record(user.post('/v1/devices', { platform: 'android', token: `${MARKERS.deviceToken}\n` }));

    const linked = await record(
      user.post<{ id: string }>('/v1/accounts', {
        email: 'marked@example.test',
        imap: { host: p.dovecot.host, port: p.dovecot.port, tls: true },
        auth: { type: 'password', username: LOGIN.user, password: MARKERS.password },
      }),
    );
    assert.equal(linked.status, 201);
    for (const token of [MARKERS.deviceToken, MARKERS.failingDeviceToken]) {
      assert.equal((await record(user.post('/v1/devices', { platform: 'android', token }))).status, 201);
    }
    await record(user.post('/v1/devices', { platform: 'ios', token: makeApnsToken() }));
    await eventually(
      async () =>
        assert.equal((await user.get<{ status: string }>(`/v1/accounts/${linked.body.id}`)).body.status, 'idle'),
      { timeoutMs: 20_000 },
    );
    p.fcm.queueResponses(MARKERS.failingDeviceToken, [
      { status: 503, errorCode: 'UNAVAILABLE' },
      { status: 503, errorCode: 'UNAVAILABLE' },
    ]);

    await p.dovecot.deliver(LOGIN.user, {
      from: `Marked Sender <${MARKERS.sender}>`,
      subject: MARKERS.subject,
      body: 'marked body',
    });
    await eventually(
      () => {
        const sent = p.fcm.delivered().find((r) => r.token === MARKERS.deviceToken);
        assert.ok(sent, 'the marked message reached the device');
        assert.ok(sent.rawBody.includes(MARKERS.subject), 'the push carries the subject (the markers did flow)');
      },
      { timeoutMs: 20_000 },
    );
    const letters = await eventually(
      async () => {
        const res = await record(p.admin.get<{ deadLetters: unknown[] }>('/v1/admin/dead-letters'));
        assert.equal(res.body.deadLetters.length, 1);
        return res;
      },
      { timeoutMs: 30_000, message: 'the failing delivery becomes a dead letter' },
    );
    assert.ok(JSON.stringify(letters.body).includes(linked.body.id), 'the dead letter keeps ids');
    await p.quiescent();

    const markers = Object.values(MARKERS);
    const metrics = await Promise.all(opsUrls.map(async (u) => (await http(u, 'GET', '/metrics')).text));
    assert.ok(
      metrics.every((m) => m.includes('# TYPE')),
      'metrics were read from every role',
    );
    const logs = [...roles, ...p.roles.values()].map((r) => r.logText());
    assert.ok(
      logs.some((l) => l.includes('"level":"debug"')),
      'debug logging was on',
    );
    for (const marker of markers) {
      for (const [where, texts] of [
        ['log', logs],
        ['error body', bodies],
        ['metrics', metrics],
      ] as const) {
        const hit = texts.find((t) => t.includes(marker));
        assert.equal(hit, undefined, `${marker} appears in a ${where}`);
      }
    }
    assert.deepEqual(keysHolding(await dumpRedis(raw), markers), [], 'no marker anywhere in Redis');
  });
});
