import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import type { WebPushConfig } from '@mailpush/config/app-config';
import { ErrorClass } from '@mailpush/errors/error-class';
import { WEB_PUSH_MAX_PLAINTEXT_BYTES, WebPushTransport, type PushNotification } from '@mailpush/push';
import { startWebPushFake, type WebPushFake } from '../fakes/web-push-fake';
import { rejection } from './push-assertions';

function notification(overrides: Partial<PushNotification> = {}): PushNotification {
  return {
    title: 'Ada Lovelace',
    body: 'Analytical engine ✓',
    collapseKey: 'acc_1.7.42',
    threadId: 'acc_1',
    data: { kind: 'message', accountId: 'acc_1', messageKey: 'acc_1.7.42', uid: '42' },
    ...overrides,
  };
}

describe('WebPushTransport against a strict push service fake (VAPID, aes128gcm)', () => {
  let fake: WebPushFake;
  const keys = webpush.generateVAPIDKeys();
  const vapid: WebPushConfig = {
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    subject: 'mailto:ops@example.com',
  };
  const transports: WebPushTransport[] = [];
  const transport = (allowPrivateHosts = true, config: WebPushConfig = vapid): WebPushTransport => {
    const t = new WebPushTransport(config, { ttlSeconds: 3600, maxSockets: 8, allowPrivateHosts });
    transports.push(t);
    return t;
  };
  const subscribe = () => fake.subscribe({ applicationServerKey: vapid.publicKey });
  const requestsFor = (endpoint: string) => fake.requests.filter((r) => endpoint.endsWith(`/push/${r.id}`));

  before(async () => {
    fake = await startWebPushFake();
  });

  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await fake.close();
  });

  it('delivers an encrypted payload the browser can decrypt, with VAPID, TTL, urgency and topic', async () => {
    const sub = subscribe();
    const result = await transport().send(sub, notification({ badge: 4 }));
    assert.equal(result.status, 'delivered');
    const [req] = requestsFor(sub.endpoint);
    assert.ok(req?.plaintext, req?.reason);
    assert.deepEqual(JSON.parse(req.plaintext), {
      title: 'Ada Lovelace',
      body: 'Analytical engine ✓',
      tag: 'acc_1.7.42',
      badge: 4,
      data: { kind: 'message', accountId: 'acc_1', messageKey: 'acc_1.7.42', uid: '42' },
    });
    assert.equal(req.vapid?.aud, fake.origin);
    assert.equal(req.vapid?.sub, 'mailto:ops@example.com');
    assert.equal(req.vapid?.publicKey, vapid.publicKey);
    assert.equal(req.headers['ttl'], '3600');
    assert.equal(req.headers['urgency'], 'normal');
    assert.match(req.headers['topic'] ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.equal(req.headers['content-encoding'], 'aes128gcm');
  });

  it('reports 410 and 404 as a dead subscription', async () => {
    const gone = subscribe();
    const missing = subscribe();
    fake.markGone(gone.endpoint, 410);
    fake.markGone(missing.endpoint, 404);
    assert.deepEqual(await transport().send(gone, notification()), { status: 'dead_token', code: 'subscription_gone' });
    assert.deepEqual(await transport().send(missing, notification()), {
      status: 'dead_token',
      code: 'subscription_not_found',
    });
  });

  it('throws RateLimited on 429 with retry-after, transient on 5xx, and never prunes on them', async () => {
    const sub = subscribe();
    fake.queueResponses(sub.endpoint, [{ status: 429, retryAfterSec: 3 }, { status: 503 }]);
    const web = transport();
    const limited = await rejection(web.send(sub, notification()));
    assert.equal(limited.errorClass, ErrorClass.RateLimited);
    assert.equal(limited.retryAfterMs, 3000);
    const unavailable = await rejection(web.send(sub, notification()));
    assert.equal(unavailable.errorClass, ErrorClass.Transient);
    assert.equal(unavailable.code, 'http_503');
    assert.equal((await web.send(sub, notification())).status, 'delivered');
  });

  it('rejects (without pruning) a subscription made with another VAPID key', async () => {
    const other = webpush.generateVAPIDKeys();
    const sub = fake.subscribe({ applicationServerKey: other.publicKey });
    const result = await transport().send(sub, notification());
    assert.deepEqual([result.status, result.status === 'rejected' && result.code], ['rejected', 'vapid_key_mismatch']);
  });

  it('shortens an oversized subject so the encrypted message fits 4096 bytes', async () => {
    const sub = subscribe();
    const subject = `"${'✓'.repeat(3000)}`;
    assert.equal((await transport().send(sub, notification({ body: subject }))).status, 'delivered');
    const [req] = requestsFor(sub.endpoint);
    assert.ok(req?.plaintext);
    assert.ok(Buffer.byteLength(req.plaintext, 'utf8') <= WEB_PUSH_MAX_PLAINTEXT_BYTES);
    assert.ok(req.bodyBytes <= 4096 && req.bodyBytes > 4000, `${req.bodyBytes} bytes on the wire`);
    const body = (JSON.parse(req.plaintext) as { body: string }).body;
    assert.ok(body.endsWith('…') && subject.startsWith(body.slice(0, -1)));
  });

  it('refuses private endpoints unless allowed: IP literals before connecting, names at DNS time', async () => {
    const sub = subscribe();
    const before = fake.requests.length;
    const literal = await transport(false).send(sub, notification());
    assert.deepEqual([literal.status, literal.status === 'rejected' && literal.code], ['rejected', 'host_not_allowed']);
    const named = { ...sub, endpoint: sub.endpoint.replace('127.0.0.1', 'localhost') };
    const resolved = await transport(false).send(named, notification());
    assert.deepEqual(
      [resolved.status, resolved.status === 'rejected' && resolved.code],
      ['rejected', 'host_not_allowed'],
    );
    assert.equal(fake.requests.length, before, 'nothing reached the private address');
  });

  it('rejects a malformed subscription locally', async () => {
    const sub = subscribe();
    const bad = await transport().send({ ...sub, keys: { ...sub.keys, auth: 'AAAA' } }, notification());
    assert.deepEqual([bad.status, bad.status === 'rejected' && bad.code], ['rejected', 'invalid_subscription']);
    const http = await transport().send({ ...sub, endpoint: sub.endpoint.replace('https:', 'http:') }, notification());
    assert.equal(http.status, 'rejected');
  });
});

describe('the Web Push fake is strict', () => {
  let fake: WebPushFake;
  const keys = webpush.generateVAPIDKeys();

  before(async () => {
    fake = await startWebPushFake();
  });

  after(async () => {
    await fake.close();
  });

  function post(endpoint: string, headers: Record<string, string>, body = Buffer.alloc(0)): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        endpoint,
        { method: 'POST', headers: { ...headers, 'content-length': body.length }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const vapidFor = (audience: string, publicKey = keys.publicKey, privateKey = keys.privateKey) =>
    webpush.getVapidHeaders(audience, 'mailto:ops@example.com', publicKey, privateKey, 'aes128gcm').Authorization;

  it('checks VAPID, TTL, topic and the encryption', async () => {
    const sub = fake.subscribe();
    const auth = vapidFor(fake.origin);
    assert.equal(await post(sub.endpoint, { ttl: '60' }), 401, 'no VAPID');
    assert.equal(
      await post(sub.endpoint, { ttl: '60', authorization: vapidFor('https://push.example.net') }),
      401,
      'wrong aud',
    );
    const other = webpush.generateVAPIDKeys();
    const forged = auth.replace(/k=[^,\s]+/, `k=${other.publicKey}`);
    assert.equal(await post(sub.endpoint, { ttl: '60', authorization: forged }), 401, 'signature not by k');
    assert.equal(await post(sub.endpoint, { authorization: auth }), 400, 'TTL required');
    assert.equal(
      await post(sub.endpoint, { ttl: '60', authorization: auth, topic: 'x'.repeat(33) }),
      400,
      'topic too long',
    );
    assert.equal(
      await post(
        sub.endpoint,
        { ttl: '60', authorization: auth, 'content-encoding': 'aes128gcm' },
        Buffer.alloc(200, 1),
      ),
      400,
      'garbage does not decrypt',
    );
    assert.equal(await post(sub.endpoint, { ttl: '60', authorization: auth }), 201, 'an empty push is fine');
    assert.equal(await post(`${fake.origin}/push/unknown`, { ttl: '60', authorization: auth }), 404);
  });
});
