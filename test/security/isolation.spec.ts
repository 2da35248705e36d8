import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DeadLetterRepository } from '@mailpush/delivery';
import { ErrorClass } from '@mailpush/errors';
import { JobName, deliveryJobId } from '@mailpush/queue';
import { makeMailEvent } from '../dispatch/dispatch.fixture';
import { startRedis, type RedisHandle } from '../harness';
import { makeApnsToken } from '../support/factories';
import { dumpRedis, keysHolding } from '../support/redis-dump';
import {
  accountBody,
  mappedRoutes,
  http,
  scriptedServer,
  securityEnv,
  startApi,
  type RunningApi,
  type ScriptedServer,
} from './security.fixture';

/**
 * How each route is reached. `public`: no credentials needed; `user`: an API key; `link`: a link
 * session token; `admin`: the admin token; `stream`: an SSE stream (walked in its own test). A
 * route the application serves that is not listed here fails the test: add it, with the guard it
 * should have.
 */
type Access = 'public' | 'user' | 'link' | 'admin' | 'stream';

const ROUTES: Record<string, Access> = {
  // The static web app: the same files for everyone, no user data (the link token stays in the
  // URL fragment, which the browser never sends).
  'GET /': 'public',
  'GET /link': 'public',
  'GET /assets/:file': 'public',
  'GET /service-worker.js': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /v1/vapid-public-key': 'public',
  // The OpenAPI document: the API's shape, no user data.
  'GET /v1/openapi.json': 'public',
  // The provider presets (names, IMAP endpoints, whether sign-in is on): operator data, no user's.
  'GET /v1/providers': 'public',
  // Authorised by its single-use `state` (random, stored hashed, 10 minutes), not by a header:
  // without a live state it answers an error page and stores nothing.
  'GET /v1/oauth/callback': 'public',
  // Takes a link token or an API key (query or bearer); `account=` is checked against its user.
  'GET /v1/oauth/:provider/start': 'user',
  'POST /v1/users': 'admin',
  'POST /v1/users/:id/api-key': 'admin',
  'DELETE /v1/users/:id': 'admin',
  'GET /v1/admin/dead-letters': 'admin',
  'POST /v1/admin/dead-letters/:id/replay': 'admin',
  'GET /v1/admin/overview': 'admin',
  'POST /v1/devices': 'user',
  'GET /v1/devices': 'user',
  'DELETE /v1/devices/:id': 'user',
  'POST /v1/accounts': 'user',
  'GET /v1/accounts': 'user',
  'GET /v1/accounts/:id': 'user',
  'PUT /v1/accounts/:id/credentials': 'user',
  'POST /v1/accounts/:id/disable': 'user',
  'POST /v1/accounts/:id/enable': 'user',
  'DELETE /v1/accounts/:id': 'user',
  'POST /v1/link-sessions': 'user',
  'GET /v1/link-session': 'link',
  // Ends the bearer's own session (walked last, so Bob's link serves every other route first).
  'DELETE /v1/link-session': 'link',
  'GET /v1/link-session/accounts': 'link',
  'POST /v1/link-session/accounts': 'link',
  'GET /v1/link-session/accounts/:id': 'link',
  'DELETE /v1/link-session/accounts/:id': 'link',
  'PUT /v1/link-session/accounts/:id/credentials': 'link',
  'POST /v1/link-session/devices': 'link',
  'GET /v1/events': 'stream',
  'GET /v1/link-session/events': 'stream',
};

/** Routes that end the credential they are called with: walked after every other. */
const LAST = new Set(['DELETE /v1/link-session']);

const DENIED = new Set([401, 403, 404]);

/** Valid bodies, so that a route's ownership check (not its validation) is what answers. */
const BODIES: Record<string, unknown> = {
  'PUT /v1/accounts/:id/credentials': { auth: { type: 'password', password: 'guess' } },
  'PUT /v1/link-session/accounts/:id/credentials': { auth: { type: 'password', password: 'guess' } },
};

/** Issue 9: every route, walked with another user's ids and keys, gives nothing away. */
describe('isolation between users, over every route of the application', { timeout: 90_000 }, () => {
  let redis: RedisHandle;
  let raw: Redis;
  let api: RunningApi;
  let server: ScriptedServer;
  const alice = {
    id: '',
    apiKey: '',
    accountId: '',
    deviceId: '',
    deviceToken: makeApnsToken(),
    linkToken: '',
    deadLetterId: '',
  };
  const bob = { id: '', apiKey: '', linkToken: '' };

  const linkToken = async (apiKey: string): Promise<string> => {
    const res = await http(api.url, 'POST', '/v1/link-sessions', { token: apiKey });
    assert.equal(res.status, 201, res.text);
    return String((res.json as { url: string }).url.split('#')[1]);
  };

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    server = await scriptedServer({});
    api = await startApi(securityEnv(redis.url));
    Object.assign(alice, await api.createUser());
    Object.assign(bob, await api.createUser());
    const account = await http(api.url, 'POST', '/v1/accounts', {
      token: alice.apiKey,
      body: accountBody(server.proxy, 'alice-password', true, 'alice@example.test'),
    });
    assert.equal(account.status, 201, account.text);
    alice.accountId = String((account.json as { id: string }).id);
    const device = await http(api.url, 'POST', '/v1/devices', {
      token: alice.apiKey,
      body: { platform: 'ios', token: alice.deviceToken },
    });
    alice.deviceId = String((device.json as { id: string }).id);
    alice.linkToken = await linkToken(alice.apiKey);
    bob.linkToken = await linkToken(bob.apiKey);
    const event = makeMailEvent(alice.id, { accountId: alice.accountId });
    alice.deadLetterId = (
      await new DeadLetterRepository(raw).add({
        jobName: JobName.Deliver,
        data: { event, deviceId: alice.deviceId },
        jobId: deliveryJobId(event, alice.deviceId),
        userId: alice.id,
        deviceId: alice.deviceId,
        error: { errorClass: ErrorClass.Transient, code: 'unavailable', message: 'unavailable' },
        attempts: 8,
        failedAt: new Date().toISOString(),
      })
    ).id;
  });

  after(async () => {
    await api?.proc.stop();
    await server?.close();
    await raw?.quit();
    await redis?.stop();
  });

  it('covers every route the application serves', () => {
    const routes = mappedRoutes(api.proc.logText());
    assert.ok(routes.length >= 20, `too few routes read from the application: ${routes.join(', ')}`);
    const uncovered = routes.filter((r) => !(r in ROUTES));
    assert.deepEqual(uncovered, [], 'routes without an isolation entry: add them to ROUTES');
  });

  it("answers another user's ids and keys with 401/403/404, and leaks nothing of them", async () => {
    const aliceIds = [alice.accountId, alice.deviceId, alice.id, alice.deadLetterId];
    const needles = [...aliceIds, alice.deviceToken.slice(-6), 'alice@example.test', alice.linkToken, alice.apiKey];
    const aliceKeys = async () =>
      (await dumpRedis(raw))
        .filter((d) => keysHolding([d], aliceIds).length > 0 && !d.key.startsWith('mp:limit:'))
        .map((d) => d.text)
        .sort();
    const before = await aliceKeys();
    const credentials = { none: undefined, bobKey: bob.apiKey, bobLink: bob.linkToken };
    const routes = mappedRoutes(api.proc.logText());
    for (const route of [...routes.filter((r) => !LAST.has(r)), ...routes.filter((r) => LAST.has(r))]) {
      const access = ROUTES[route];
      if (access === 'stream') continue;
      const [method = 'GET', template = '/'] = route.split(' ');
      // A provider that exists (sign-in is off on this api: the route answers for it all the same).
      const concrete = template.replace(':provider', 'gmail');
      const paths = concrete.includes(':id') ? aliceIds.map((id) => concrete.replace(':id', id)) : [concrete];
      for (const path of paths) {
        for (const [who, token] of Object.entries(credentials)) {
          const body = method === 'GET' || method === 'HEAD' ? {} : { body: BODIES[route] ?? {} };
          const res = await http(api.url, method, path, { ...(token ? { token } : {}), ...body });
          const where = `${method} ${path} as ${who}: ${res.status} ${res.text.slice(0, 200)}`;
          assert.ok(res.status < 500, where);
          for (const needle of needles) assert.ok(!res.text.includes(needle), `leaks ${needle}: ${where}`);
          const ownScope =
            access === 'public' ||
            (access === 'user' && who === 'bobKey' && !template.includes(':id')) ||
            (access === 'link' && who === 'bobLink' && !template.includes(':id'));
          if (!ownScope) assert.ok(DENIED.has(res.status), `expected 401/403/404: ${where}`);
        }
      }
    }
    assert.deepEqual(await aliceKeys(), before, "nothing of Alice's changed");
  });

  it("streams a user's own events only, by API key and by link session", async () => {
    const freshLink = await linkToken(bob.apiKey);
    assert.equal((await http(api.url, 'GET', '/v1/events', { token: freshLink })).status, 401);
    assert.equal((await http(api.url, 'GET', '/v1/link-session/events', { token: bob.apiKey })).status, 401);
    for (const [path, token] of [
      ['/v1/events', bob.apiKey],
      ['/v1/link-session/events', freshLink],
    ] as const) {
      const controller = new AbortController();
      const res = await fetch(`${api.url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      assert.equal(res.status, 200, path);
      const reader = res.body!.getReader();
      let text = '';
      const readUntil = async (needle: string): Promise<void> => {
        while (!text.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`${path}: stream ended before ${needle}`);
          text += Buffer.from(value).toString('utf8');
        }
      };
      await readUntil('event: ready');
      // Same subscriber connection, so Redis delivers these in order: Alice's first, then Bob's.
      await raw.publish(`mp:events:user:${alice.id}`, JSON.stringify({ id: 'alice-secret-event' }));
      await raw.publish(`mp:events:user:${bob.id}`, JSON.stringify({ id: 'bob-own-event' }));
      await readUntil('bob-own-event');
      controller.abort();
      assert.ok(!text.includes('alice-secret-event'), path);
    }
  });
});
