import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';
import { disableMessagingRetries, fcmPayloadBytes, fcmWireContent, type FcmContent } from './firebase-admin.adapter';

/**
 * Contract of firebase-admin.adapter.ts with the installed firebase-admin: the retry policy is
 * where the adapter switches it off, and the serialization copy matches what `send()` really hands
 * to its HTTP client, for the kinds of message the transport builds.
 */

const credential: Credential = {
  getAccessToken: () => Promise.resolve({ access_token: 'test', expires_in: 3600 }),
};
const apps: App[] = [];
function messaging(): Messaging {
  const app = initializeApp({ credential, projectId: 'contract-test' }, `contract-${randomUUID()}`);
  apps.push(app);
  return getMessaging(app);
}
after(() => Promise.all(apps.map((app) => deleteApp(app))));

/** What `send()` passes to the request handler: `{ message }` for the FCM v1 endpoint. */
async function serializedBySend(content: FcmContent): Promise<Record<string, unknown>> {
  const m = messaging();
  const handler: unknown = Reflect.get(m, 'messagingRequestHandler');
  assert.ok(typeof handler === 'object' && handler !== null, 'messagingRequestHandler is gone');
  assert.equal(typeof Reflect.get(handler, 'invokeRequestHandler'), 'function', 'invokeRequestHandler is gone');
  let captured: unknown;
  Reflect.set(handler, 'invokeRequestHandler', (_host: string, _path: string, request: unknown) => {
    captured = request;
    return Promise.resolve({ name: 'projects/contract-test/messages/1' });
  });
  await m.send({ token: 'device-token', ...content });
  const message: unknown = Reflect.get(Object(captured), 'message');
  assert.ok(typeof message === 'object' && message !== null, 'send() no longer posts { message }');
  assert.equal(Reflect.get(message, 'token'), 'device-token');
  return Object.fromEntries(Object.entries(message).filter(([key]) => key !== 'token'));
}

const samples: [string, FcmContent][] = [
  [
    'full privacy, escapes and astral characters',
    {
      notification: { title: 'Ada "Lovelace" <ada@example.org>', body: 'Über\u2028engines\\n 😀' },
      data: { accountId: 'a1', uid: '42' },
      android: { priority: 'high', ttl: 86_400_000, notification: { tag: 'k1', notificationCount: 7 } },
    },
  ],
  [
    'content-free with a localized body',
    {
      notification: { title: 'Mail' },
      data: {},
      android: {
        priority: 'high',
        ttl: 3_600_000,
        notification: { tag: 'k2', bodyLocKey: 'new_mail_count', bodyLocArgs: ['12'] },
      },
    },
  ],
  [
    'a ttl with a fraction of a second',
    {
      notification: {},
      data: { a: '' },
      android: { priority: 'normal', ttl: 1500, notification: { tag: 'k3' } },
    },
  ],
];

describe('firebase-admin adapter contract (firebase-admin internals)', () => {
  it('finds both HTTP clients’ retry policies and switches them off', () => {
    const m = messaging();
    const handler: unknown = Reflect.get(m, 'messagingRequestHandler');
    const retries = ['httpClient', 'http2Client'].map((name) =>
      Reflect.get(Object(Reflect.get(Object(handler), name)), 'retry'),
    );
    for (const retry of retries) {
      assert.ok(typeof retry === 'object' && retry !== null, 'retry config moved');
      assert.ok(Number(Reflect.get(retry, 'maxRetries')) > 0, 'firebase-admin no longer retries by default');
    }
    assert.equal(disableMessagingRetries(m), true);
    for (const retry of retries) assert.equal(Reflect.get(Object(retry), 'maxRetries'), 0);
  });

  for (const [name, content] of samples) {
    it(`serializes like send() does: ${name}`, async () => {
      const wire = await serializedBySend(content);
      assert.deepEqual(JSON.parse(JSON.stringify(fcmWireContent(content))), wire);
      assert.equal(fcmPayloadBytes(content), Buffer.byteLength(JSON.stringify(wire), 'utf8'));
    });
  }
});
