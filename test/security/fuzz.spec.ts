import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startRedis, type RedisHandle } from '../harness';
import { makeApnsToken } from '../support/factories';
import { dumpRedis } from '../support/redis-dump';
import {
  accountBody,
  http,
  mappedRoutes,
  scriptedServer,
  securityEnv,
  startApi,
  type RunningApi,
  type ScriptedServer,
} from './security.fixture';

/** Bounded: a few hundred requests, each compared against Redis before and after. */
const RUNS = 150;

/** Counters that move with every request, refused or not (login limits): not state a request writes. */
const VOLATILE = /^mp:limit:/;

async function snapshot(redis: Redis): Promise<string[]> {
  return (await dumpRedis(redis))
    .filter((d) => !VOLATILE.test(d.key))
    .map((d) => d.text)
    .sort();
}

const junkText = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom('', '..%2f..%2fetc%2fpasswd', '%00', '<script>', "' OR 1=1 --", '\u202e', 'acc_*', '*', 'mp:user'),
  fc.nat({ max: 40_000 }).map((n) => 'x'.repeat(n)),
);

/**
 * Issue 9: random, oversized and malformed bodies, headers and query strings over every route of
 * the API and the form: never a 5xx, never a crash, and a refused request changes nothing in Redis.
 */
describe('fuzzing the API and the form', { timeout: 300_000 }, () => {
  let redis: RedisHandle;
  let raw: Redis;
  let api: RunningApi;
  let server: ScriptedServer;
  const ids: string[] = [];
  const tokens: Record<string, string> = {};

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    server = await scriptedServer({});
    api = await startApi(securityEnv(redis.url));
    const alice = await api.createUser();
    tokens.user = alice.apiKey;
    tokens.admin = api.adminToken;
    const account = await http(api.url, 'POST', '/v1/accounts', {
      token: alice.apiKey,
      body: accountBody(server.proxy, 'pw'),
    });
    const device = await http(api.url, 'POST', '/v1/devices', {
      token: alice.apiKey,
      body: { platform: 'ios', token: makeApnsToken() },
    });
    const link = await http(api.url, 'POST', '/v1/link-sessions', { token: alice.apiKey });
    tokens.link = String((link.json as { url: string }).url.split('#')[1]);
    ids.push(alice.id, String((account.json as { id: string }).id), String((device.json as { id: string }).id));
  });

  after(async () => {
    await api?.proc.stop();
    await server?.close();
    await raw?.quit();
    await redis?.stop();
  });

  it('answers everything with a 2xx, 3xx or 4xx, writes nothing when refusing, and stays up', async () => {
    const routes = mappedRoutes(api.proc.logText());
    assert.ok(routes.length >= 20);
    const validBodies = [
      accountBody(server.proxy, 'pw'),
      { platform: 'android', token: `fuzz_${'a'.repeat(30)}` },
      { platform: 'web', subscription: { endpoint: 'https://push.example.com/x', keys: { p256dh: 'AA', auth: 'BB' } } },
      { auth: { type: 'password', password: 'pw' } },
    ];
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 4 }).map((v) => ({ json: v })),
      fc.constantFrom(...validBodies).chain((valid) =>
        fc
          .record({
            path: fc.constantFrom(...Object.keys(valid)),
            value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), junkText),
          })
          .map(({ path, value }) => ({ json: { ...valid, [path]: value } })),
      ),
      junkText.map((raw) => ({ raw })),
      fc.constantFrom('{"a":', '[]', 'null', '{"__proto__":{"admin":true}}', '\u0000').map((raw) => ({ raw })),
    );
    const request = fc.record({
      route: fc.constantFrom(...routes),
      id: fc.oneof(
        fc.constantFrom(...ids),
        junkText.filter((s) => s.length < 2000),
      ),
      auth: fc.constantFrom('none', 'user', 'link', 'admin', 'garbage'),
      contentType: fc.constantFrom(
        'application/json',
        'text/plain',
        'application/json; charset=utf-16',
        'multipart/form-data',
        '',
      ),
      query: fc.array(
        fc.tuple(
          fc.string({ maxLength: 20 }),
          junkText.filter((s) => s.length < 2000),
        ),
        { maxLength: 4 },
      ),
      forwardedFor: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
      body,
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const [method = 'GET', template = '/'] = r.route.split(' ');
        // Deleting or re-keying the fixture user would only make later runs weaker.
        if (method === 'DELETE' && ids.includes(r.id)) return;
        if (r.auth === 'admin' && template.startsWith('/v1/users/')) return;
        // An authorised event stream never ends; the isolation spec reads them.
        if (template === '/v1/events' && r.auth === 'user') return;
        if (template === '/v1/link-session/events' && r.auth === 'link') return;
        // Ending the fixture's link session would make later runs weaker too.
        if (r.route === 'DELETE /v1/link-session' && r.auth === 'link') return;
        const path =
          template.replace(':id', encodeURIComponent(r.id)) +
          (r.query.length > 0
            ? `?${r.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`
            : '');
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.forwardedFor !== undefined) headers['x-forwarded-for'] = r.forwardedFor.replace(/[\r\n]/g, '');
        const token = r.auth === 'garbage' ? 'mpk_garbage' : r.auth === 'none' ? undefined : tokens[r.auth];
        const bodyless = method === 'GET' || method === 'HEAD';
        const before = await snapshot(raw);
        const res = await http(api.url, method, path, {
          ...(token ? { token } : {}),
          headers,
          ...(bodyless || !r.body ? {} : 'raw' in r.body ? { rawBody: r.body.raw } : { body: r.body.json }),
        });
        const where = `${method} ${path.slice(0, 200)} -> ${res.status} ${res.text.slice(0, 200)}`;
        assert.ok(res.status < 500, where);
        if (res.status >= 400) assert.deepEqual(await snapshot(raw), before, `half-written: ${where}`);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    assert.ok(api.proc.running, 'the API is still up');
    assert.equal((await http(api.url, 'GET', '/healthz')).status, 200);
  });
});
