import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020';
import { startRedis, type RedisHandle } from '../harness';
import { makeFcmToken } from '../support/factories';
import { http, mappedRoutes, securityEnv, startApi, type RunningApi } from '../security/security.fixture';

interface Operation {
  requestBody?: { content: Record<string, { schema: object }> };
}
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

function isOpenApi(value: unknown): value is OpenApi {
  return typeof value === 'object' && value !== null && 'openapi' in value && 'paths' in value;
}

/** Nest logs `GET /v1/accounts/:id`; OpenAPI writes `/v1/accounts/{id}`. */
const asOpenApiPath = (route: string) => route.replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document', { timeout: 120_000 }, () => {
  let redis: RedisHandle;
  let api: RunningApi;
  let apiKey: string;
  let document: OpenApi;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

  before(async () => {
    redis = await startRedis();
    api = await startApi(securityEnv(redis.url));
    apiKey = (await api.createUser()).apiKey;
    const res = await http(api.url, 'GET', '/v1/openapi.json');
    assert.equal(res.status, 200, res.text);
    assert.ok(isOpenApi(res.json), res.text.slice(0, 200));
    document = res.json;
  });

  after(async () => {
    await api?.proc.stop();
    await redis?.stop();
  });

  /** The request body schema the document gives for one operation. */
  function bodySchema(method: string, path: string) {
    const schema = document.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
    assert.ok(schema, `the document has no JSON body for ${method.toUpperCase()} ${path}`);
    return ajv.compile(schema);
  }

  it('is OpenAPI 3.1, served without credentials', () => {
    assert.match(document.openapi, /^3\.1\./);
  });

  it('has every route the application registers, and no route it does not', () => {
    const registered = mappedRoutes(api.proc.logText()).map((route) => {
      const [method = '', path = ''] = route.split(' ');
      return `${method.toLowerCase()} ${asOpenApiPath(path)}`;
    });
    assert.ok(registered.length > 30, `only ${registered.length} routes found in the log`);
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    assert.deepEqual(
      registered.filter((r) => !documented.includes(r)),
      [],
      'registered routes missing from the document',
    );
    assert.deepEqual(
      documented.filter((d) => !registered.includes(d)),
      [],
      'documented routes the application does not serve',
    );
  });

  it('rejects, in its request schemas, what the API rejects', async () => {
    const samples: { method: string; path: string; sentTo?: string; body: unknown }[] = [
      { method: 'post', path: '/v1/devices', body: { platform: 'windows', token: makeFcmToken() } },
      { method: 'post', path: '/v1/devices', body: { platform: 'ios', token: 'abc' } },
      { method: 'post', path: '/v1/devices', body: { platform: 'android', token: makeFcmToken(), extra: 1 } },
      {
        method: 'post',
        path: '/v1/accounts',
        body: {
          email: 'a@example.test',
          imap: { host: 'imap.example.test', port: 70000 },
          auth: { type: 'password', username: 'a', password: 'p' },
        },
      },
      {
        method: 'post',
        path: '/v1/accounts',
        body: {
          email: 'not an address',
          imap: { host: 'imap.example.test' },
          auth: { type: 'password', username: 'a', password: 'p' },
        },
      },
      {
        method: 'put',
        path: '/v1/accounts/{id}/credentials',
        sentTo: '/v1/accounts/acc_00000000000000000000/credentials',
        body: { auth: { type: 'oauth', password: 'p' } },
      },
    ];
    for (const { method, path, sentTo, body } of samples) {
      const answer = await http(api.url, method.toUpperCase(), sentTo ?? path, { token: apiKey, body });
      assert.equal(answer.status, 400, `the API took ${JSON.stringify(body)} at ${path}: ${answer.text}`);
      assert.equal(bodySchema(method, path)(body), false, `the document accepts ${JSON.stringify(body)} at ${path}`);
    }
  });

  it('accepts, in its request schemas, a body the API accepts', async () => {
    const body = { platform: 'android', token: makeFcmToken() };
    const validate = bodySchema('post', '/v1/devices');
    assert.equal(validate(body), true, JSON.stringify(validate.errors));
    assert.equal((await http(api.url, 'POST', '/v1/devices', { token: apiKey, body })).status, 201);
  });
});
