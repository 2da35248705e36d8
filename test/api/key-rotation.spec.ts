import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventually, freePort, startDovecot, startRedis, type DovecotHandle, type RedisHandle } from '../harness';
import { RedisKeys } from '@mailpush/store';
import { ApiClient } from '../support/api-client';
import { makeAdminToken, makeMasterKey } from '../support/factories';
import { RoleProcess } from '../support/role-process';

const DAVE = { user: 'dave', password: 'dave-rotation-pw' };
const TOOL = resolve(__dirname, '../../apps/tools/src/reseal-credentials.js');

function runTool(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [TOOL], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => done({ code, out }));
  });
}

/** Master-key rotation: add a key in front, re-seal, drop the old key, and the mailbox still connects. */
describe('master key rotation', { timeout: 90_000 }, () => {
  let redis: RedisHandle;
  let dovecot: DovecotHandle;
  let raw: Redis;
  let accountId: string;
  let user: ApiClient;
  const oldKey = makeMasterKey('v1');
  const newKey = makeMasterKey('v2');
  const base = () => ({
    REDIS_URL: redis.url,
    MAILPUSH_ADMIN_TOKEN: makeAdminToken(),
    MAILPUSH_ALLOW_PRIVATE_HOSTS: 'true',
    MAILPUSH_ALLOWED_IMAP_PORTS: '*',
    MAILPUSH_OPS_PORT: '0',
  });

  before(async () => {
    [redis, dovecot] = await Promise.all([startRedis(), startDovecot({ users: [DAVE] })]);
    raw = new Redis(redis.url);
    const port = await freePort();
    const env = { ...base(), MAILPUSH_MASTER_KEY: oldKey, PORT: String(port), HOST: '127.0.0.1' };
    const api = RoleProcess.start('api', env);
    try {
      const admin = new ApiClient(`http://127.0.0.1:${port}`, env.MAILPUSH_ADMIN_TOKEN);
      await eventually(async () => assert.equal((await admin.get('/healthz')).status, 200), { timeoutMs: 45_000 });
      user = admin.withToken((await admin.post<{ apiKey: string }>('/v1/users', {})).body.apiKey);
      const linked = await user.post<{ id: string }>('/v1/accounts', {
        email: 'dave@example.test',
        imap: { host: dovecot.host, port: dovecot.port, tls: true },
        auth: { type: 'password', username: DAVE.user, password: DAVE.password },
      });
      assert.equal(linked.status, 201, JSON.stringify(linked.body));
      accountId = linked.body.id;
    } finally {
      await api.stop();
    }
  });

  after(async () => {
    await raw?.quit();
    await Promise.all([dovecot?.stop(), redis?.stop()]);
  });

  it('re-seals every credential with the newest key, once', async () => {
    assert.match((await raw.hget(RedisKeys.account(accountId), 'credentials')) ?? '', /^v1\./);
    const first = await runTool({ ...base(), MAILPUSH_MASTER_KEY: `${newKey},${oldKey}` });
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /1 re-sealed, 0 already current/);
    const sealed = (await raw.hget(RedisKeys.account(accountId), 'credentials')) ?? '';
    assert.match(sealed, /^v2\./);
    assert.ok(!sealed.includes(DAVE.password));
    const again = await runTool({ ...base(), MAILPUSH_MASTER_KEY: `${newKey},${oldKey}` });
    assert.match(again.out, /0 re-sealed, 1 already current/);
    assert.match((await raw.get('mp:master-key-canary')) ?? '', /^v2\./, 'the key canary is re-sealed too');
  });

  it('lets the old key go: a worker holding only the new key still logs in', async () => {
    const worker = RoleProcess.start('worker', { ...base(), MAILPUSH_MASTER_KEY: newKey });
    try {
      await eventually(async () => assert.equal(await raw.hget(RedisKeys.account(accountId), 'status'), 'idle'), {
        timeoutMs: 30_000,
      });
    } finally {
      await worker.stop();
    }
  });

  it('refuses to run with a broken key list, naming the variable', async () => {
    const bad = await runTool({ ...base(), MAILPUSH_MASTER_KEY: 'v1:short' });
    assert.equal(bad.code, 78);
    assert.match(bad.out, /MAILPUSH_MASTER_KEY/);
  });

  it('stops every role at start, in plain words, when the key cannot open what Redis holds', async () => {
    for (const [key, words] of [
      [makeMasterKey('v2'), /canary was sealed with key v2, and it does not decrypt/],
      [makeMasterKey('v3'), /no key of that version is configured/],
    ] as const) {
      for (const role of ['api', 'worker', 'dispatcher'] as const) {
        const proc = RoleProcess.start(role, { ...base(), MAILPUSH_MASTER_KEY: key, PORT: '0' });
        await eventually(() => assert.ok(!proc.running, `${role} should refuse to start`), { timeoutMs: 45_000 });
        assert.equal(await proc.stop(), 78, proc.logText());
        assert.match(proc.logText(), /refusing to start[\s\S]*MAILPUSH_MASTER_KEY cannot open the credentials/);
        assert.match(proc.logText(), words);
      }
    }
  });
});
