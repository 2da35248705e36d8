import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { ApnsConfig } from '@mailpush/config/app-config';
import { ErrorClass } from '@mailpush/errors/error-class';
import {
  ApnsTokenStore,
  ApnsTransport,
  MemoryApnsTokenBackend,
  type ApnsTokenBackend,
  type PushNotification,
} from '@mailpush/push';
import { startApnsFake, type ApnsFake } from '../fakes/apns-fake';
import { rejection } from './push-assertions';

const TEAM_ID = 'TEAM123456';
const KEY_ID = 'KEY1234567';
const TOPIC = 'com.example.mailpush';

function makeP8(): { keyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

const newToken = (): string => randomBytes(32).toString('hex');

function notification(overrides: Partial<PushNotification> = {}): PushNotification {
  return {
    title: 'Ada Lovelace',
    body: 'Analytical engine ✓',
    collapseKey: 'acc_1.7.42',
    threadId: 'acc_1',
    data: { accountId: 'acc_1', uid: '42' },
    ...overrides,
  };
}

/** A JWT as Apple wants it (ES256, kid, iss, iat), minted by hand so the fake's checks can be probed. */
function mintJwt(keyPem: string, claims: { iss?: string; iat?: number; kid?: string } = {}): string {
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: claims.kid ?? KEY_ID })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({ iss: claims.iss ?? TEAM_ID, iat: claims.iat ?? Math.floor(Date.now() / 1000) }),
  ).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
    key: keyPem,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

// The transport's behaviour is the same whichever HTTP/2 client APNS_CLIENT names.
for (const client of ['node-apn', 'http2'] as const)
  describe(`ApnsTransport (APNS_CLIENT=${client}) against the strict APNs fake (HTTP/2 + TLS)`, () => {
    const p8 = makeP8();
    let fake: ApnsFake;
    let config: ApnsConfig;
    const transports: ApnsTransport[] = [];
    const tokenStore = (c: ApnsConfig, backend: ApnsTokenBackend, now?: () => number): ApnsTokenStore =>
      new ApnsTokenStore({
        keyPem: c.keyPem,
        keyId: c.keyId,
        teamId: c.teamId,
        refreshMs: c.jwtRefreshMs,
        backend,
        now,
      });
    const transport = (
      overrides: Partial<ApnsConfig> = {},
      tokens?: ApnsTokenStore,
      ttlSeconds = 3600,
    ): ApnsTransport => {
      const c = { ...config, ...overrides };
      const t = new ApnsTransport(c, { tokens: tokens ?? tokenStore(c, new MemoryApnsTokenBackend()), ttlSeconds });
      transports.push(t);
      return t;
    };
    const requestsFor = (token: string) => fake.requests.filter((r) => r.token === token);

    before(async () => {
      fake = await startApnsFake({ teamId: TEAM_ID, keyId: KEY_ID, publicKeyPem: p8.publicKeyPem, topic: TOPIC });
      config = {
        keyPem: p8.keyPem,
        keyId: KEY_ID,
        teamId: TEAM_ID,
        topic: TOPIC,
        endpoint: fake.endpoint,
        jwtRefreshMs: 45 * 60_000,
        client,
      };
    });

    after(async () => {
      await Promise.all(transports.map((t) => t.close()));
      await fake.close();
    });

    it('delivers an alert with the right headers and payload', async () => {
      const apns = transport();
      const token = newToken();
      const before = Math.floor(Date.now() / 1000);
      const result = await apns.send({ token, environment: 'sandbox' }, notification());
      assert.equal(result.status, 'delivered');

      const [req] = requestsFor(token);
      assert.ok(req);
      assert.equal(req.status, 200);
      assert.equal(result.status === 'delivered' && result.providerId, req.apnsId);
      assert.equal(req.method, 'POST');
      assert.equal(req.path, `/3/device/${token}`);
      assert.equal(req.headers['apns-topic'], TOPIC);
      assert.equal(req.headers['apns-push-type'], 'alert');
      assert.equal(req.headers['apns-priority'], '10');
      assert.equal(req.headers['apns-collapse-id'], 'acc_1.7.42');
      const expiration = Number(req.headers['apns-expiration']);
      assert.ok(expiration >= before + 3600 && expiration <= before + 3605, `expiration ${expiration}`);
      assert.match(req.headers['authorization'] ?? '', /^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      assert.deepEqual(req.payload, {
        accountId: 'acc_1',
        uid: '42',
        aps: {
          alert: { title: 'Ada Lovelace', body: 'Analytical engine ✓' },
          'thread-id': 'acc_1',
          'mutable-content': 1,
        },
      });
    });

    it('reuses one JWT and one HTTP/2 connection across many sends, one per environment', async () => {
      const apns = transport();
      const start = fake.requests.length;
      const connectionsBefore = fake.connectionCount();
      const tokens = Array.from({ length: 25 }, newToken);
      // 5 concurrent, then 20 one after another.
      const first = await Promise.all(
        tokens.slice(0, 5).map((token) => apns.send({ token, environment: 'sandbox' }, notification())),
      );
      for (const token of tokens.slice(5))
        first.push(await apns.send({ token, environment: 'sandbox' }, notification()));
      assert.ok(first.every((r) => r.status === 'delivered'));

      const mine = fake.requests.slice(start);
      assert.equal(mine.length, 25);
      assert.equal(new Set(mine.map((r) => r.headers['authorization'])).size, 1, 'one JWT for all sends');
      assert.equal(new Set(mine.map((r) => r.connection)).size, 1, 'one connection for all sends');
      assert.equal(fake.connectionCount() - connectionsBefore, 1);

      // production gets its own (lazily created) provider: one more connection, reused too.
      const prod = [newToken(), newToken()];
      for (const token of prod)
        assert.equal((await apns.send({ token, environment: 'production' }, notification())).status, 'delivered');
      assert.equal(fake.connectionCount() - connectionsBefore, 2);
      assert.equal(new Set(prod.map((t) => requestsFor(t)[0]?.connection)).size, 1);
    });

    it('reports 410 Unregistered and 400 BadDeviceToken as dead tokens', async () => {
      const apns = transport();
      const gone = newToken();
      const bad = newToken();
      fake.markUnregistered(gone);
      fake.markBadToken(bad);
      assert.deepEqual(await apns.send({ token: gone, environment: 'production' }, notification()), {
        status: 'dead_token',
        code: 'unregistered',
      });
      assert.deepEqual(await apns.send({ token: bad, environment: 'production' }, notification()), {
        status: 'dead_token',
        code: 'bad_device_token',
      });
      assert.equal(requestsFor(gone)[0]?.status, 410);
      assert.equal(requestsFor(bad)[0]?.reason, 'BadDeviceToken');
    });

    it('throws a transient PushDeliveryError on 500, without retrying inside the client, and recovers', async () => {
      const apns = transport();
      const token = newToken();
      fake.queueResponses(token, [{ status: 500, reason: 'InternalServerError' }]);
      const err = await rejection(apns.send({ token, environment: 'sandbox' }, notification()));
      assert.equal(err.errorClass, ErrorClass.Transient);
      assert.equal(err.provider, 'apns');
      assert.equal(requestsFor(token).length, 1, 'exactly one request: the queue retries, not the client');
      // node-apn drops the session after a 500: the next send reconnects.
      assert.equal((await apns.send({ token, environment: 'sandbox' }, notification())).status, 'delivered');
      assert.equal(requestsFor(token).length, 2);
    });

    it('throws RateLimited on 429 with its retry-after (node-apn alone would lose it), and 503 as transient', async () => {
      const apns = transport();
      const token = newToken();
      fake.queueResponses(token, [
        { status: 429, reason: 'TooManyRequests', retryAfterSec: 2 },
        { status: 503, reason: 'ServiceUnavailable' },
      ]);
      const limited = await rejection(apns.send({ token, environment: 'sandbox' }, notification()));
      assert.equal(limited.errorClass, ErrorClass.RateLimited);
      assert.equal(limited.code, 'too_many_requests');
      // node-apn reads headers['Retry-After'] (HTTP/2 names are lower-case) and deletes retryAfter
      // from its errors; the node-apn adapter reads the header off the stream itself.
      assert.equal(limited.retryAfterMs, 2000);
      const unavailable = await rejection(apns.send({ token, environment: 'sandbox' }, notification()));
      assert.equal(unavailable.errorClass, ErrorClass.Transient);
      assert.equal(unavailable.code, 'service_unavailable');
      assert.equal(requestsFor(token).length, 2);
    });

    it('on 403 ExpiredProviderToken keeps a token younger than 20 min, and replaces an older one once', async () => {
      const token = newToken();
      // A young token: APNs would answer TooManyProviderTokenUpdates to a replacement; keep it.
      const young = transport();
      assert.equal((await young.send({ token, environment: 'sandbox' }, notification())).status, 'delivered');
      fake.queueResponses(token, [{ status: 403, reason: 'ExpiredProviderToken' }]);
      const err = await rejection(young.send({ token, environment: 'sandbox' }, notification()));
      assert.equal(err.errorClass, ErrorClass.Transient);
      assert.equal(err.code, 'expired_provider_token');
      assert.equal((await young.send({ token, environment: 'sandbox' }, notification())).status, 'delivered');
      const youngJwts = requestsFor(token).map((r) => r.headers['authorization']);
      assert.equal(new Set(youngJwts).size, 1, 'no re-signing for a token minted moments ago');

      // A token minted 25 min ago (still valid at APNs, which allows an hour): replaced once.
      let offset = -25 * 60_000;
      const old = transport(
        {},
        tokenStore(config, new MemoryApnsTokenBackend(), () => Date.now() + offset),
      );
      const oldToken = newToken();
      assert.equal((await old.send({ token: oldToken, environment: 'sandbox' }, notification())).status, 'delivered');
      offset = 0;
      fake.queueResponses(oldToken, [{ status: 403, reason: 'ExpiredProviderToken' }]);
      await rejection(old.send({ token: oldToken, environment: 'sandbox' }, notification()));
      assert.equal((await old.send({ token: oldToken, environment: 'sandbox' }, notification())).status, 'delivered');
      const oldJwts = requestsFor(oldToken).map((r) => r.headers['authorization']);
      assert.equal(oldJwts.length, 3);
      assert.equal(oldJwts[0], oldJwts[1]);
      assert.notEqual(oldJwts[1], oldJwts[2], 'a fresh shared token after the expired one');
    });

    it('shares one JWT between transports on one token backend (as processes do through Redis)', async () => {
      const backend = new MemoryApnsTokenBackend();
      const a = transport({}, tokenStore(config, backend));
      const b = transport({}, tokenStore(config, backend));
      const tokens = Array.from({ length: 10 }, newToken);
      await Promise.all(
        tokens.map((token, i) =>
          (i % 2 ? a : b).send({ token, environment: i % 3 ? 'sandbox' : 'production' }, notification()),
        ),
      );
      assert.equal(new Set(tokens.map((t) => requestsFor(t)[0]?.headers['authorization'])).size, 1);
    });

    it('sends a content-free alert as a localization key, with the badge and the configured expiration', async () => {
      const token = newToken();
      const before = Math.floor(Date.now() / 1000);
      const result = await transport({}, undefined, 120).send(
        { token, environment: 'sandbox' },
        notification({ title: '', body: 'New mail', bodyLocKey: 'NEW_MAIL', badge: 3 }),
      );
      assert.equal(result.status, 'delivered');
      const [req] = requestsFor(token);
      assert.deepEqual((req?.payload as { aps: unknown }).aps, {
        alert: { body: 'New mail', 'loc-key': 'NEW_MAIL' },
        badge: 3,
        'thread-id': 'acc_1',
        'mutable-content': 1,
      });
      const expiration = Number(req?.headers['apns-expiration']);
      assert.ok(expiration >= before + 120 && expiration <= before + 125, `expiration ${expiration}`);
    });

    it('shortens a subject that would make the payload exceed 4096 bytes, on a UTF-8 boundary', async () => {
      const token = newToken();
      // Quotes and control characters grow when escaped: the cut is measured on the serialized payload.
      const subject = `${'"\u0001'.repeat(200)}${'😀✓é'.repeat(600)}`;
      assert.ok(Buffer.byteLength(subject, 'utf8') > 4096);
      const result = await transport().send({ token, environment: 'sandbox' }, notification({ body: subject }));
      assert.equal(result.status, 'delivered', 'truncated, not rejected');
      const [req] = requestsFor(token);
      assert.equal(req?.status, 200);
      const size = Buffer.byteLength(req?.rawBody ?? '', 'utf8');
      assert.ok(size <= 4096 && size > 4000, `payload of ${size} bytes`);
      const body = (req?.payload as { aps: { alert: { body: string } } }).aps.alert.body;
      assert.ok(body.endsWith('…'));
      assert.ok(subject.startsWith(body.slice(0, -1)), 'a prefix of the subject: no split character');
    });

    it('rejects a non-hex token locally, without a request', async () => {
      const apns = transport();
      const start = fake.requests.length;
      const result = await apns.send({ token: 'not-a-token', environment: 'sandbox' }, notification());
      assert.equal(result.status, 'rejected');
      assert.equal(result.status === 'rejected' && result.code, 'invalid_token');
      assert.equal(fake.requests.length, start);
    });

    it('maps a wrong topic to rejected and a key APNs does not know to an Auth error', async () => {
      const token = newToken();
      const wrongTopic = await transport({ topic: 'com.example.other' }).send(
        { token, environment: 'sandbox' },
        notification(),
      );
      assert.equal(wrongTopic.status, 'rejected');
      assert.equal(wrongTopic.status === 'rejected' && wrongTopic.code, 'topic_disallowed');

      const stranger = makeP8();
      const err = await rejection(
        transport({ keyPem: stranger.keyPem }).send({ token, environment: 'sandbox' }, notification()),
      );
      assert.equal(err.errorClass, ErrorClass.Auth);
      assert.equal(err.code, 'invalid_provider_token');
      assert.deepEqual(
        requestsFor(token).map((r) => r.reason),
        ['TopicDisallowed', 'InvalidProviderToken'],
      );
    });

    it('never logs or carries the token or content in its errors', async () => {
      const apns = transport();
      const token = newToken();
      fake.queueResponses(token, [{ status: 500, reason: 'InternalServerError' }]);
      const err = await rejection(apns.send({ token, environment: 'sandbox' }, notification({ body: 'secret words' })));
      const dump = JSON.stringify({ ...err, message: err.message, classified: err.classified });
      assert.ok(!dump.includes(token));
      assert.ok(!dump.includes('secret words'));
    });

    it('keeps TLS verification on: a server whose certificate does not name the endpoint is refused', async () => {
      const impostor = await startApnsFake({
        teamId: TEAM_ID,
        keyId: KEY_ID,
        publicKeyPem: p8.publicKeyPem,
        topic: TOPIC,
        certNames: ['api.push.apple.com'],
      });
      try {
        const err = await rejection(
          transport({ endpoint: impostor.endpoint }).send(
            { token: newToken(), environment: 'sandbox' },
            notification(),
          ),
        );
        assert.equal(err.errorClass, ErrorClass.Transient);
        assert.equal(err.code, 'tls_failed');
        assert.equal(impostor.requests.length, 0);
      } finally {
        await impostor.close();
      }
    });
  });

describe('the APNs fake is strict', () => {
  const p8 = makeP8();
  let fake: ApnsFake;
  let client: ClientHttp2Session;

  before(async () => {
    fake = await startApnsFake({ teamId: TEAM_ID, keyId: KEY_ID, publicKeyPem: p8.publicKeyPem, topic: TOPIC });
    client = connect(fake.url);
    client.on('error', () => undefined);
  });

  after(async () => {
    client.close();
    await fake.close();
  });

  const goodBody = JSON.stringify({ aps: { alert: { title: 't', body: 'b' } } });

  function post(
    overrides: OutgoingHttpHeaders & { token?: string } = {},
    body: string = goodBody,
  ): Promise<{ status: number; reason?: string; headers: Record<string, unknown> }> {
    const { token = newToken(), ...headerOverrides } = overrides;
    const headers: OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': `/3/device/${token}`,
      authorization: `bearer ${mintJwt(p8.keyPem)}`,
      'apns-topic': TOPIC,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      ...headerOverrides,
    };
    for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
    return new Promise((resolve, reject) => {
      const req = client.request(headers);
      let status = 0;
      let responseHeaders: Record<string, unknown> = {};
      let text = '';
      req.setEncoding('utf8');
      req.on('response', (h) => {
        status = Number(h[':status']);
        responseHeaders = h;
      });
      req.on('data', (d: string) => (text += d));
      req.on('end', () =>
        resolve({
          status,
          reason: text ? (JSON.parse(text) as { reason: string }).reason : undefined,
          headers: responseHeaders,
        }),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('accepts a well-formed request', async () => {
    const res = await post();
    assert.equal(res.status, 200);
    assert.match(String(res.headers['apns-id']), /^[0-9a-f-]{36}$/);
  });

  it('checks the provider token like Apple', async () => {
    const forger = makeP8();
    const hourAgo = Math.floor(Date.now() / 1000) - 3700;
    assert.deepEqual(await reasonOf({ authorization: undefined }), [403, 'MissingProviderToken']);
    assert.deepEqual(
      await reasonOf({ authorization: `bearer ${mintJwt(forger.keyPem)}` }),
      [403, 'InvalidProviderToken'],
      'bad signature',
    );
    assert.deepEqual(await reasonOf({ authorization: `bearer ${mintJwt(p8.keyPem, { kid: 'OTHERKEY00' })}` }), [
      403,
      'InvalidProviderToken',
    ]);
    assert.deepEqual(await reasonOf({ authorization: `bearer ${mintJwt(p8.keyPem, { iss: 'OTHERTEAM0' })}` }), [
      403,
      'InvalidProviderToken',
    ]);
    assert.deepEqual(await reasonOf({ authorization: `bearer ${mintJwt(p8.keyPem, { iat: hourAgo })}` }), [
      403,
      'ExpiredProviderToken',
    ]);
    assert.deepEqual(await reasonOf({ authorization: 'bearer not.a.jwt' }), [403, 'InvalidProviderToken']);
  });

  it('checks path, method, topic, push type, priority, collapse id, payload and token', async () => {
    assert.deepEqual(await reasonOf({ ':path': '/3/devices/abc' }), [404, 'BadPath']);
    assert.deepEqual(await reasonOf({ ':method': 'PUT' }), [405, 'MethodNotAllowed']);
    assert.deepEqual(await reasonOf({ 'apns-topic': undefined }), [400, 'MissingTopic']);
    assert.deepEqual(await reasonOf({ 'apns-topic': 'com.example.other' }), [400, 'TopicDisallowed']);
    assert.deepEqual(await reasonOf({ 'apns-push-type': undefined }), [400, 'InvalidPushType']);
    assert.deepEqual(await reasonOf({ 'apns-push-type': 'shout' }), [400, 'InvalidPushType']);
    assert.deepEqual(
      await reasonOf({}, JSON.stringify({ aps: { badge: 1 } })),
      [400, 'InvalidPushType'],
      'alert without aps.alert',
    );
    assert.deepEqual(await reasonOf({ 'apns-priority': '7' }), [400, 'BadPriority']);
    assert.deepEqual(await reasonOf({ 'apns-collapse-id': 'x'.repeat(65) }), [400, 'BadCollapseId']);
    assert.deepEqual(await reasonOf({ 'apns-id': 'not-a-uuid' }), [400, 'BadMessageId']);
    assert.deepEqual(await reasonOf({}, ''), [400, 'PayloadEmpty']);
    assert.deepEqual(await reasonOf({}, '{"aps":'), [400, 'PayloadEmpty']);
    const big = JSON.stringify({ aps: { alert: { title: 't', body: 'x'.repeat(4100) } } });
    assert.deepEqual(await reasonOf({}, big), [413, 'PayloadTooLarge']);
    assert.deepEqual(await reasonOf({ token: 'abcd' }), [400, 'BadDeviceToken']);
    assert.equal((await post({ 'apns-collapse-id': 'x'.repeat(64) })).status, 200, '64 bytes is fine');
  });

  it('sends retry-after and the 410 timestamp when told to', async () => {
    const token = newToken();
    fake.queueResponses(token, [{ status: 429, reason: 'TooManyRequests', retryAfterSec: 2 }]);
    const limited = await post({ token });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '2');
    fake.markUnregistered(token, 1_700_000_000_000);
    const gone = await post({ token });
    assert.deepEqual([gone.status, gone.reason], [410, 'Unregistered']);
    assert.equal(fake.requests.at(-1)?.status, 410);
  });

  async function reasonOf(
    headers: OutgoingHttpHeaders & { token?: string },
    body?: string,
  ): Promise<[number, string | undefined]> {
    const res = await post(headers, body);
    return [res.status, res.reason];
  }
});
