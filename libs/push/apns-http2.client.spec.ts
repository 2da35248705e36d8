import assert from 'node:assert/strict';
import { createServer, constants, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ErrorCode, errorCodeChain } from '@mailpush/errors';
import { classifyApnsFailure } from './apns-error.classifier';
import { ApnsHttp2Client, type ApnsClientLimits, type ApnsRequest } from './apns-http2.client';

/** How the plain-text HTTP/2 server answers one request, by the device token in its path. */
type Behaviour = 'ok' | 'unregistered' | 'rate-limited' | 'silent' | 'reset' | 'goaway' | 'slow';

interface Seen {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  session: number;
}

const request = (deviceToken: Behaviour | string, body = '{"aps":{}}'): ApnsRequest => ({
  deviceToken,
  jwt: 'header.claims.signature',
  headers: { 'apns-topic': 'com.example.mailpush', 'apns-push-type': 'alert' },
  body,
});

describe('ApnsHttp2Client (against a local HTTP/2 server)', () => {
  let server: Http2Server;
  let origin: string;
  const seen: Seen[] = [];
  let sessions = 0;
  let inFlight = 0;
  let peak = 0;
  const clients: ApnsHttp2Client[] = [];
  const client = (limits: ApnsClientLimits = {}, at = origin): ApnsHttp2Client => {
    const c = new ApnsHttp2Client(at, limits);
    clients.push(c);
    return c;
  };

  const answer = (stream: ServerHttp2Stream, behaviour: string): void => {
    switch (behaviour) {
      case 'silent':
        return;
      case 'reset':
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      case 'unregistered':
        stream.respond({ ':status': 410, 'apns-id': 'id-410' });
        stream.end(JSON.stringify({ reason: 'Unregistered', timestamp: 1700000000000 }));
        return;
      case 'rate-limited':
        stream.respond({ ':status': 429, 'retry-after': '7' });
        stream.end(JSON.stringify({ reason: 'TooManyRequests' }));
        return;
      case 'goaway':
        stream.respond({ ':status': 200, 'apns-id': 'id-goaway' });
        stream.end();
        stream.session?.goaway();
        return;
      case 'slow':
        setTimeout(() => answer(stream, 'ok'), 20);
        return;
      default:
        stream.respond({ ':status': 200, 'apns-id': `id-${seen.length}` });
        stream.end();
    }
  };

  before(async () => {
    server = createServer();
    server.on('session', (session) => {
      sessions++;
      Reflect.set(session, 'ordinal', sessions);
    });
    server.on('stream', (stream, headers) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      stream.on('close', () => inFlight--);
      // A stream this server resets or the client cancels errors here too.
      stream.on('error', () => undefined);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const path = String(headers[':path']);
        const ordinal: unknown = stream.session ? Reflect.get(stream.session, 'ordinal') : undefined;
        seen.push({
          path,
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
          session: typeof ordinal === 'number' ? ordinal : 0,
        });
        answer(stream, path.split('/').pop() ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    seen.length = 0;
    peak = 0;
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends one POST with the JWT, the apns headers and the body, and reads status and apns-id', async () => {
    const answerOk = await client().send(request('ok', '{"aps":{"alert":"hi"}}'));
    assert.equal(answerOk.status, 200);
    assert.equal(answerOk.apnsId, 'id-1');
    assert.equal(answerOk.reason, undefined);
    const [req] = seen;
    assert.ok(req);
    assert.equal(req.path, '/3/device/ok');
    assert.equal(req.headers[':method'], 'POST');
    assert.equal(req.headers['authorization'], 'bearer header.claims.signature');
    assert.equal(req.headers['apns-topic'], 'com.example.mailpush');
    assert.equal(req.headers['apns-push-type'], 'alert');
    assert.equal(req.body, '{"aps":{"alert":"hi"}}');
  });

  it("reads Apple's reason body and retry-after on failures", async () => {
    const c = client();
    assert.deepEqual(await c.send(request('unregistered')), { status: 410, apnsId: 'id-410', reason: 'Unregistered' });
    assert.deepEqual(await c.send(request('rate-limited')), {
      status: 429,
      reason: 'TooManyRequests',
      retryAfter: '7',
    });
  });

  it('keeps one connection for many requests, and never has more streams open than its bound', async () => {
    const c = client({ maxStreams: 3 });
    const before = sessions;
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.send(request('slow'))));
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(peak, 3);
    assert.equal(sessions - before, 1);
    assert.equal(new Set(seen.map((s) => s.session)).size, 1);
  });

  it('opens a new connection after the server sends GOAWAY', async () => {
    const c = client();
    assert.equal((await c.send(request('goaway'))).status, 200);
    // The GOAWAY frame follows the answer: wait until the client has seen it (its session is retired).
    const first = seen[0]?.session;
    let second: number | undefined;
    for (let i = 0; i < 50 && (second === undefined || second === first); i++) {
      assert.equal((await c.send(request('ok'))).status, 200);
      second = seen.at(-1)?.session;
    }
    assert.notEqual(second, first, 'requests after GOAWAY go to a new connection');
  });

  it('rejects a request without an answer as a timeout, and the connection keeps serving', async () => {
    const c = client({ requestTimeoutMs: 100 });
    const err = await c.send(request('silent')).then(
      () => assert.fail('a silent request must not resolve'),
      (e: unknown) => e,
    );
    assert.equal(classifyApnsFailure({ error: err }).classified.code, ErrorCode.Timeout);
    assert.equal((await c.send(request('ok'))).status, 200);
    assert.equal(new Set(seen.map((s) => s.session)).size, 1);
  });

  it('rejects a reset stream as a connection failure (the queue retries)', async () => {
    const err = await client()
      .send(request('reset'))
      .then(
        () => assert.fail('a reset stream must not resolve'),
        (e: unknown) => e,
      );
    assert.equal(classifyApnsFailure({ error: err }).classified.code, ErrorCode.ConnectFailed);
  });

  it('reports a refused connection with its network code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await client({}, `http://127.0.0.1:${port}`)
      .send(request('ok'))
      .then(
        () => assert.fail('nothing listens there'),
        (e: unknown) => e,
      );
    assert.equal(classifyApnsFailure({ error: err }).classified.code, ErrorCode.ConnectFailed);
    assert.ok(errorCodeChain(err).includes('ECONNREFUSED'), 'the socket error is kept (as the cause)');
  });

  it('closes within its bound even when a request is never answered', async () => {
    const c = client({ closeWaitMs: 200, requestTimeoutMs: 60_000 });
    assert.equal((await c.send(request('ok'))).status, 200);
    const pending = c.send(request('silent')).then(
      () => 'answered',
      () => 'failed',
    );
    const started = Date.now();
    await c.close();
    assert.ok(Date.now() - started < 2_000, `close took ${Date.now() - started} ms`);
    assert.equal(await pending, 'failed');
    await assert.rejects(c.send(request('ok')), /closed/);
  });
});
