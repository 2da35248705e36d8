import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClientHttp2Session, OutgoingHttpHeaders } from 'node:http2';
import { after, describe, it } from 'node:test';
import { Provider } from '@parse/node-apn';
import {
  adaptNodeApnProvider,
  nodeApnClient,
  nodeApnNotification,
  sentApnsId,
  shutdownNodeApnProvider,
} from './node-apn.adapter';

/**
 * Contract of node-apn.adapter.ts with the installed @parse/node-apn: drives the library's own
 * Client#request over a scripted HTTP/2 session, so an upgrade that moves the token, the request
 * signature, the failure shape or the payload encoding fails here, not in production.
 */

interface ScriptedAnswer {
  /** `:status` is a number in a real HTTP/2 response. */
  headers: Readonly<Record<string, string | number>>;
  body: string;
}

/** One HTTP/2 stream answering with `answer`, recording what was sent. */
class ScriptedStream extends EventEmitter {
  written = '';

  constructor(private readonly answer: ScriptedAnswer) {
    super();
  }

  setEncoding(): void {}
  setTimeout(): void {}
  close(): void {}
  write(chunk: string): void {
    this.written += chunk;
  }
  end(): void {
    setImmediate(() => {
      this.emit('response', this.answer.headers);
      if (this.answer.body) this.emit('data', this.answer.body);
      this.emit('end');
    });
  }
}

function scriptedSession(answer: ScriptedAnswer): { session: ClientHttp2Session; sent: OutgoingHttpHeaders[] } {
  const sent: OutgoingHttpHeaders[] = [];
  const fake = {
    closed: false,
    destroyed: false,
    request(headers: OutgoingHttpHeaders): ScriptedStream {
      sent.push(headers);
      return new ScriptedStream(answer);
    },
  };
  // The library receives an object with only the members its request() uses.
  const session: ClientHttp2Session = Object.setPrototypeOf(fake, EventEmitter.prototype);
  return { session, sent };
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const providers: Provider[] = [];
function provider(): Provider {
  const p = new Provider({
    token: {
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyId: 'KEYID12345',
      teamId: 'TEAM123456',
    },
    production: false,
    connectionRetryLimit: 0,
  });
  providers.push(p);
  return p;
}
after(() => Promise.all(providers.map((p) => shutdownNodeApnProvider(p, 200))));

const request = (p: Provider, session: ClientHttp2Session): Promise<unknown> =>
  nodeApnClient(p).request(
    session,
    'api.sandbox.push.apple.com',
    { headers: {}, body: '{"aps":{}}' },
    '/3/device/ab',
    'post',
  );

describe('node-apn adapter contract (@parse/node-apn internals)', () => {
  it('finds Provider#client with config.token and a request(session, address, notification, path, method)', () => {
    const client = nodeApnClient(provider());
    assert.equal(typeof client.request, 'function');
    assert.equal(client.request.length, 5, 'Client#request changed its parameters');
    assert.ok(typeof client.config.token === 'object' && client.config.token !== null, 'config.token is gone');
  });

  it('signs every request with the shared token and never regenerates it', async () => {
    const p = provider();
    let token = 'shared.jwt.one';
    adaptNodeApnProvider(p, { peek: () => token });
    const { session, sent } = scriptedSession({ headers: { ':status': 200, 'apns-id': 'id-1' }, body: '' });
    const result = await request(p, session);
    token = 'shared.jwt.two';
    await request(p, session);
    assert.deepEqual(
      sent.map((h) => h.authorization),
      ['bearer shared.jwt.one', 'bearer shared.jwt.two'],
    );
    assert.equal(typeof result === 'object' && result !== null ? sentApnsId(result) : undefined, 'id-1');
  });

  it('reports an HTTP refusal as { status, response: { reason } } with the retry-after it dropped', async () => {
    const p = provider();
    adaptNodeApnProvider(p, { peek: () => 'jwt' });
    const { session } = scriptedSession({
      headers: { ':status': 429, 'retry-after': '7' },
      body: JSON.stringify({ reason: 'TooManyRequests' }),
    });
    await assert.rejects(request(p, session), (failure: unknown) => {
      assert.ok(typeof failure === 'object' && failure !== null);
      assert.equal(Reflect.get(failure, 'status'), 429);
      assert.deepEqual(Reflect.get(failure, 'response'), { reason: 'TooManyRequests' });
      assert.equal(Reflect.get(failure, 'retryAfterMs'), 7000);
      return true;
    });
  });

  it('reports 403 ExpiredProviderToken as { status, error: VError(reason) } without re-signing', async () => {
    const p = provider();
    adaptNodeApnProvider(p, { peek: () => 'jwt' });
    const { session, sent } = scriptedSession({
      headers: { ':status': 403 },
      body: JSON.stringify({ reason: 'ExpiredProviderToken' }),
    });
    await assert.rejects(request(p, session), (failure: unknown) => {
      assert.equal(Reflect.get(Object(failure), 'status'), 403);
      assert.equal(Reflect.get(Object(Reflect.get(Object(failure), 'error')), 'message'), 'ExpiredProviderToken');
      return true;
    });
    assert.equal(sent[0]?.authorization, 'bearer jwt');
  });

  it('sends the headers and body of nodeApnNotification unchanged (Provider#send reads headers() and compile())', async () => {
    const p = provider();
    let built: unknown;
    const client: unknown = Reflect.get(p, 'client');
    assert.equal(typeof Reflect.get(Object(client), 'write'), 'function', 'Client#write is gone');
    Reflect.set(Object(client), 'write', (notification: unknown) => {
      built = notification;
      return Promise.resolve({ device: 'ab' });
    });
    const headers = { 'apns-topic': 'com.example', 'apns-push-type': 'alert', 'apns-priority': '10' };
    const body = JSON.stringify({ uid: '42', aps: { alert: { title: 'Über \u2028 😀' }, 'mutable-content': 1 } });
    const { sent } = await p.send(nodeApnNotification(headers, body), 'ab');
    assert.equal(sent.length, 1);
    assert.deepEqual(built, { headers, body });
  });

  it('takes a shutdown callback', async () => {
    const p = provider();
    let called = false;
    await new Promise<void>((resolve) => {
      void p.shutdown(() => {
        called = true;
        resolve();
      });
      setTimeout(resolve, 1000).unref();
    });
    assert.ok(called, 'Provider#shutdown no longer calls its callback');
  });
});
