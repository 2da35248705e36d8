import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { connect as http2Connect, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { FcmConfig } from '@mailpush/config/app-config';
import { ErrorClass } from '@mailpush/errors/error-class';
import { FcmTransport, type PushNotification } from '@mailpush/push';
import { startFcmFake, type FcmFake } from '../fakes/fcm-fake';
import { rejection } from './push-assertions';

const PROJECT = 'mailpush-test';

const newToken = (): string =>
  `fcm_${randomBytes(24).toString('base64url')}:APA91b${randomBytes(48).toString('base64url')}`;

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

describe('FcmTransport against the strict FCM fake (firebase-admin, real TLS)', () => {
  let fake: FcmFake;
  let config: FcmConfig;
  const transports: FcmTransport[] = [];
  const transport = (overrides: Partial<FcmConfig> = {}): FcmTransport => {
    const t = new FcmTransport({ ...config, ...overrides }, { ttlSeconds: 3600, maxSockets: 50 });
    transports.push(t);
    return t;
  };
  const requestsFor = (token: string) => fake.requests.filter((r) => r.token === token);

  before(async () => {
    fake = await startFcmFake({ projectId: PROJECT });
    config = { projectId: PROJECT, endpoint: fake.endpoint };
  });

  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await fake.close();
  });

  it('delivers a high-priority notification message of the right shape', async () => {
    const fcm = transport();
    const token = newToken();
    const result = await fcm.send(token, notification());
    assert.equal(result.status, 'delivered');

    const [req] = requestsFor(token);
    assert.ok(req);
    assert.equal(result.status === 'delivered' && result.providerId, req.name);
    assert.match(req.name ?? '', new RegExp(`^projects/${PROJECT}/messages/`));
    assert.equal(req.method, 'POST');
    assert.equal(req.path, `/v1/projects/${PROJECT}/messages:send`);
    assert.equal(req.httpVersion, '1.1', 'firebase-admin send() uses HTTP/1.1');
    assert.equal(
      req.headers['host'],
      'fcm.googleapis.com',
      'the request is for FCM; only the connection goes to the endpoint',
    );
    assert.equal(req.headers['authorization'], 'Bearer owner');
    assert.deepEqual(req.body, {
      message: {
        token,
        notification: { title: 'Ada Lovelace', body: 'Analytical engine ✓' },
        data: { accountId: 'acc_1', uid: '42' },
        // No collapse_key: FCM keeps only 4 collapse keys per offline device and throttles collapsible
        // messages to 20 then 1 per 3 min; the tag still replaces a duplicate on the phone.
        android: { priority: 'high', ttl: '3600s', notification: { tag: 'acc_1.7.42' } },
      },
    });
  });

  it('carries the badge, the localization key of a content-free notification, and the configured ttl', async () => {
    const fcm = new FcmTransport(config, { ttlSeconds: 600, maxSockets: 4 });
    transports.push(fcm);
    const token = newToken();
    const result = await fcm.send(
      token,
      notification({ title: '', body: 'New mail', bodyLocKey: 'NEW_MAIL', badge: 7 }),
    );
    assert.equal(result.status, 'delivered');
    assert.deepEqual(requestsFor(token)[0]?.message, {
      token,
      notification: { body: 'New mail' },
      data: { accountId: 'acc_1', uid: '42' },
      android: {
        priority: 'high',
        ttl: '600s',
        notification: { tag: 'acc_1.7.42', body_loc_key: 'NEW_MAIL', notification_count: 7 },
      },
    });
  });

  it('shortens an oversized subject on a UTF-8 boundary so the message fits 4096 bytes', async () => {
    const token = newToken();
    const subject = `"quoted" ✓ ${'é'.repeat(3000)}`;
    const result = await transport().send(token, notification({ body: subject }));
    assert.equal(result.status, 'delivered');
    const message = requestsFor(token)[0]?.message as { notification: { body: string } };
    const body = message.notification.body;
    assert.ok(body.endsWith('…'), 'cut, with an ellipsis');
    assert.ok(subject.startsWith(body.slice(0, -1)), 'a prefix of the subject, no broken character');
    const content = { ...requestsFor(token)[0]?.message };
    delete content.token;
    const size = Buffer.byteLength(JSON.stringify(content), 'utf8');
    assert.ok(size <= 4096 && size > 4000, `uses the room it has: ${size} bytes`);
  });

  it('keeps one keep-alive connection for sends one after another', async () => {
    const fcm = transport();
    const before = fake.connectionCount();
    for (let i = 0; i < 10; i++) assert.equal((await fcm.send(newToken(), notification())).status, 'delivered');
    assert.equal(fake.connectionCount() - before, 1);
  });

  it('reports UNREGISTERED (404) as a dead token', async () => {
    const token = newToken();
    fake.markUnregistered(token);
    assert.deepEqual(await transport().send(token, notification()), { status: 'dead_token', code: 'unregistered' });
    assert.equal(requestsFor(token)[0]?.status, 404);
  });

  it('reports INVALID_ARGUMENT as rejected, not as a dead token', async () => {
    const token = newToken();
    fake.queueResponses(token, [{ status: 400, errorCode: 'INVALID_ARGUMENT' }]);
    const result = await transport().send(token, notification());
    assert.equal(result.status, 'rejected');
    assert.equal(result.status === 'rejected' && result.code, 'invalid_argument');
  });

  it('throws RateLimited on 429 with retryAfterMs from retry-after, without retrying inside firebase-admin', async () => {
    const token = newToken();
    fake.queueResponses(token, [{ status: 429, retryAfterSec: 7 }]);
    const err = await rejection(transport().send(token, notification()));
    assert.equal(err.errorClass, ErrorClass.RateLimited);
    assert.equal(err.code, 'quota_exceeded');
    assert.equal(err.retryAfterMs, 7000);
    assert.equal(requestsFor(token).length, 1);
  });

  it('throws transient on 503 after one request: firebase-admin retries are off, the queue retries', async () => {
    const token = newToken();
    fake.queueResponses(token, [{ status: 503, retryAfterSec: 1 }]);
    const fcm = transport();
    const err = await rejection(fcm.send(token, notification()));
    assert.equal(err.errorClass, ErrorClass.Transient);
    assert.equal(err.code, 'unavailable');
    assert.equal(err.retryAfterMs, 1000);
    assert.equal(requestsFor(token).length, 1);
    assert.equal((await fcm.send(token, notification())).status, 'delivered');
    assert.deepEqual(
      requestsFor(token).map((r) => r.status),
      [503, 200],
    );
  });

  it('throws transient on 500 INTERNAL (not retried by firebase-admin)', async () => {
    const token = newToken();
    fake.queueResponses(token, [{ status: 500 }]);
    const err = await rejection(transport().send(token, notification()));
    assert.equal(err.errorClass, ErrorClass.Transient);
    assert.equal(err.code, 'internal');
    assert.equal(requestsFor(token).length, 1);
  });

  it('throws Auth when the access token or the project is refused', async () => {
    const strict = await startFcmFake({ projectId: PROJECT, accessToken: 'ya29.something-else' });
    try {
      const unauthenticated = await rejection(
        transport({ endpoint: strict.endpoint }).send(newToken(), notification()),
      );
      assert.equal(unauthenticated.errorClass, ErrorClass.Auth);
      assert.equal(unauthenticated.code, 'auth_failed');
      assert.equal(strict.requests[0]?.status, 401);
    } finally {
      await strict.close();
    }
    const wrongProject = await rejection(transport({ projectId: 'someone-else' }).send(newToken(), notification()));
    assert.equal(wrongProject.errorClass, ErrorClass.Auth);
    assert.equal(wrongProject.code, 'permission_denied');
  });

  it('does not carry the token or the content in its errors', async () => {
    const token = newToken();
    fake.queueResponses(token, [{ status: 500 }]);
    const err = await rejection(transport().send(token, notification({ body: 'secret words' })));
    const dump = JSON.stringify({ ...err, message: err.message, classified: err.classified });
    assert.ok(!dump.includes(token));
    assert.ok(!dump.includes('secret words'));
  });

  it('keeps TLS verification on: the endpoint must present a certificate for its own name', async () => {
    // A certificate for fcm.googleapis.com alone would satisfy a client that still checks the
    // original host; ours checks the endpoint's name (127.0.0.1) and must refuse it.
    const impostor = await startFcmFake({ projectId: PROJECT, certNames: ['fcm.googleapis.com'] });
    try {
      const err = await rejection(transport({ endpoint: impostor.endpoint }).send(newToken(), notification()));
      assert.equal(err.errorClass, ErrorClass.Transient);
      assert.equal(err.code, 'tls_failed');
      assert.equal(impostor.requests.length, 0);
    } finally {
      await impostor.close();
    }
  });

  it('builds from a service account (no request made) and refuses a config with neither mode', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const withAccount = transport({
      serviceAccount: {
        project_id: PROJECT,
        client_email: `mailpush@${PROJECT}.iam.gserviceaccount.com`,
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      },
    });
    await withAccount.close();
    assert.throws(
      () => new FcmTransport({ projectId: PROJECT }, { ttlSeconds: 3600, maxSockets: 1 }),
      /service account/,
    );
  });
});

describe('the FCM fake is strict', () => {
  let fake: FcmFake;
  const path = `/v1/projects/${PROJECT}/messages:send`;

  before(async () => {
    fake = await startFcmFake({ projectId: PROJECT });
  });

  after(async () => {
    await fake.close();
  });

  type Reply = {
    status: number;
    headers: Record<string, unknown>;
    json: Record<string, unknown> | undefined;
    text: string;
  };

  function post(body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: fake.host,
          port: fake.port,
          path,
          method: 'POST',
          headers: { authorization: 'Bearer owner', 'content-type': 'application/json', ...headers },
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let json: Record<string, unknown> | undefined;
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
          });
        },
      );
      req.on('error', reject);
      req.end(raw);
    });
  }

  const error = (r: Reply) =>
    (r.json?.error ?? {}) as { code?: number; message?: string; status?: string; details?: Record<string, unknown>[] };
  const good = () => ({ token: newToken(), notification: { title: 't', body: 'b' } });

  it("answers an unknown field with Google's INVALID_ARGUMENT body", async () => {
    const res = await post({ message: { ...good(), priority: 'high' } });
    assert.equal(res.status, 400);
    const description = 'Invalid JSON payload received. Unknown name "priority" at \'message\': Cannot find field.';
    assert.deepEqual(res.json, {
      error: {
        code: 400,
        message: description,
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'message', description }],
          },
        ],
      },
    });
    const nested = await post({ message: { ...good(), android: { notification: { tag: 'x', group: 'g' } } } });
    assert.equal(nested.status, 400);
    assert.match(error(nested).message ?? '', /Unknown name "group" at 'message\.android\.notification'/);
    const top = await post({ message: good(), dry_run: true });
    assert.match(error(top).message ?? '', /Unknown name "dry_run": Cannot find field/);
  });

  it('checks types, the single target, priority, ttl and size', async () => {
    const cases: [string, unknown, RegExp][] = [
      [
        'non-string data',
        { ...good(), data: { n: 1 } },
        /Invalid value at 'message\.data\[0\]\.value' \(TYPE_STRING\), 1/,
      ],
      ['two targets', { ...good(), topic: 'news' }, /oneof field 'target' is already set/],
      ['no target', { notification: { title: 't' } }, /Recipient of the message is not set/],
      ['bad priority', { ...good(), android: { priority: 'urgent' } }, /Invalid value at 'message\.android\.priority'/],
      [
        'ttl in ms',
        { ...good(), android: { ttl: 3600000 } },
        /Invalid value at 'message\.android\.ttl' \(type\.googleapis\.com\/google\.protobuf\.Duration\)/,
      ],
      ['oversize', { ...good(), data: { big: 'x'.repeat(4100) } }, /too big/],
    ];
    for (const [label, message, pattern] of cases) {
      const res = await post({ message });
      assert.equal(res.status, 400, label);
      assert.equal(error(res).status, 'INVALID_ARGUMENT', label);
      assert.match(error(res).message ?? '', pattern, label);
    }
    assert.equal(
      (await post({ message: { ...good(), android: { priority: 'HIGH', ttl: '3600s', collapseKey: 'k' } } })).status,
      200,
      'camelCase and any-case enums are fine',
    );
    assert.equal((await post('{"message": ')).status, 400, 'malformed JSON');
  });

  it('requires the bearer token and answers 401 UNAUTHENTICATED like Google', async () => {
    const res = await post({ message: good() }, { authorization: 'Bearer nope' });
    assert.equal(res.status, 401);
    assert.equal(error(res).status, 'UNAUTHENTICATED');
    assert.equal(error(res).code, 401);
    assert.match(error(res).message ?? '', /^Request had invalid authentication credentials/);
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  });

  it('answers dead tokens and queued failures with the real bodies', async () => {
    const dead = newToken();
    fake.markUnregistered(dead);
    const gone = await post({ message: { ...good(), token: dead } });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.json, {
      error: {
        code: 404,
        message: 'Requested entity was not found.',
        status: 'NOT_FOUND',
        details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }],
      },
    });
    const flaky = newToken();
    fake.queueResponses(flaky, [
      { status: 503 },
      { status: 429, retryAfterSec: 1 },
      { status: 400, errorCode: 'INVALID_ARGUMENT' },
    ]);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post({ message: { ...good(), token: flaky } }));
    assert.deepEqual(
      answers.map((a) => [
        a.status,
        error(a).status,
        (error(a).details?.[0] as { errorCode?: string } | undefined)?.errorCode,
      ]),
      [
        [503, 'UNAVAILABLE', 'UNAVAILABLE'],
        [429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'],
        [400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'],
        [200, undefined, undefined],
      ],
    );
    assert.equal(answers[1]?.headers['retry-after'], '1');
  });

  it('treats validate_only as a dry run that is not delivered', async () => {
    const token = newToken();
    const res = await post({ message: { ...good(), token }, validate_only: true });
    assert.equal(res.status, 200);
    assert.equal(res.json?.name, `projects/${PROJECT}/messages/fake_message_id`);
    assert.ok(!fake.delivered().some((r) => r.token === token));
  });

  it('speaks HTTP/2 too; a `:scheme` of "https:" (firebase-admin sendEach) is reset by nghttp2', async () => {
    const client = http2Connect(fake.url);
    client.on('error', () => undefined);
    const send = (scheme: string) =>
      new Promise<number | string>((resolve) => {
        const headers: OutgoingHttpHeaders = {
          ':method': 'POST',
          ':scheme': scheme,
          ':path': path,
          authorization: 'Bearer owner',
          'content-type': 'application/json',
        };
        const req = client.request(headers);
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        req.on('close', () => resolve(status));
        req.resume();
        req.end(JSON.stringify({ message: good() }));
      });
    try {
      assert.equal(await send('https'), 200);
      assert.equal(fake.requests.at(-1)?.httpVersion, '2.0');
      assert.equal(await send('https:'), 'ERR_HTTP2_STREAM_ERROR');
    } finally {
      client.close();
    }
  });
});
