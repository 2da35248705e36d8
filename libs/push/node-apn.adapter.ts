import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Notification, type Provider } from '@parse/node-apn';
import { parseRetryAfter } from './push-failure';

/**
 * Everything the APNs transport takes back from @parse/node-apn's internals, in one place; the
 * contract spec beside this file fails if an upgrade moves what it relies on:
 * - `Provider#client.config.token`, read before every request (lib/client.js `request`): replaced
 *   by the team's one shared JWT, never expired and never re-signed here.
 * - `Provider#client.request(session, …)`: wrapped so the `retry-after` header reaches the caller
 *   (node-apn reads `Retry-After`, but HTTP/2 names are lower-case, and then deletes it).
 * - `Provider#send` reads only `notification.headers()` and `notification.compile()` (which returns
 *   `compiled` once set): the transport's own headers and body go through unchanged.
 * - a sent result carries the `apns-id` header; `shutdown` takes a callback.
 */

/** Where the shared provider token comes from (ApnsTokenStore). */
export interface ProviderTokenSource {
  peek(): string | undefined;
}

/** The parts of node-apn's (untyped) Client that are adapted, checked at run time. */
export interface NodeApnClient {
  config: { token: unknown };
  request: (session: ClientHttp2Session, ...rest: unknown[]) => Promise<unknown>;
}

/** node-apn's token object as `Client#request` uses it. */
export interface NodeApnToken {
  readonly generation: number;
  readonly current: string;
  isExpired(validSeconds: number): boolean;
  regenerate(generation: number): void;
}

export function nodeApnClient(provider: Provider): NodeApnClient {
  const client: unknown = Reflect.get(provider, 'client');
  if (!isNodeApnClient(client)) throw new Error('unsupported @parse/node-apn version: Provider.client has changed');
  return client;
}

function isNodeApnClient(value: unknown): value is NodeApnClient {
  if (typeof value !== 'object' || value === null) return false;
  const request: unknown = Reflect.get(value, 'request');
  const config: unknown = Reflect.get(value, 'config');
  return typeof request === 'function' && typeof config === 'object' && config !== null && 'token' in config;
}

/** Makes a Provider use the shared token and report `retry-after` as `retryAfterMs` on its failures. */
export function adaptNodeApnProvider(provider: Provider, tokens: ProviderTokenSource): void {
  const client = nodeApnClient(provider);
  const token: NodeApnToken & { iat: null } = {
    generation: 0,
    iat: null,
    get current(): string {
      return tokens.peek() ?? '';
    },
    isExpired: (): boolean => false,
    regenerate: (): void => undefined,
  };
  client.config.token = token;

  const request = client.request;
  client.request = async function (
    this: NodeApnClient,
    session: ClientHttp2Session,
    ...rest: unknown[]
  ): Promise<unknown> {
    let retryAfter: string | undefined;
    const watched = new Proxy(session, {
      get(target, prop) {
        if (prop === 'request') {
          return (...args: Parameters<ClientHttp2Session['request']>): ClientHttp2Stream => {
            const stream = target.request(...args);
            stream.once('response', (headers: IncomingHttpHeaders) => {
              const value = headers['retry-after'];
              retryAfter = Array.isArray(value) ? value[0] : value;
            });
            return stream;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    try {
      return await request.call(this, watched, ...rest);
    } catch (failure) {
      const retryAfterMs = parseRetryAfter(retryAfter);
      // node-apn spreads this object into what Provider.send reports as failed.
      if (retryAfterMs !== undefined && typeof failure === 'object' && failure !== null) {
        Reflect.set(failure, 'retryAfterMs', retryAfterMs);
      }
      throw failure;
    }
  };
}

/** A Notification that node-apn sends as exactly these headers and this body (built by the transport). */
export function nodeApnNotification(headers: Readonly<Record<string, string>>, body: string): Notification {
  const note = new Notification();
  Reflect.set(note, 'headers', () => ({ ...headers }));
  Reflect.set(note, 'compiled', body);
  return note;
}

/** The `apns-id` APNs gave a sent notification (node-apn spreads response headers into the result). */
export function sentApnsId(sent: object | undefined): string | undefined {
  const id: unknown = sent === undefined ? undefined : Reflect.get(sent, 'apns-id');
  return typeof id === 'string' ? id : undefined;
}

/**
 * Provider.shutdown() takes a callback and returns nothing, whatever its typings say. It marks the
 * client destroyed and stops its ping timers at once, then waits for the session's 'close' event;
 * after a connection error (e.g. TLS refused) that event has already fired and the callback never
 * comes, so the wait is bounded.
 */
export function shutdownNodeApnProvider(provider: Provider, maxWaitMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    timer.unref();
    void provider.shutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
