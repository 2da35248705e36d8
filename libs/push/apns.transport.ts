import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import {
  Notification,
  Provider,
  type NotificationAlertOptions,
  type ProviderOptions,
  type ResponseFailure,
} from '@parse/node-apn';
import type { ApnsConfig } from '@mailpush/config/app-config';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { classifyApnsFailure } from './apns-error.classifier';
import { parseRetryAfter } from './push-failure';
import { fitNotification } from './payload-fit';
import type { ApnsTokenStore } from './apns-token.store';
import { PushDeliveryError, type ApnsDevice, type DeliveryResult, type PushNotification } from './push-notification';

/** APNs limits (Apple, "Sending notification requests to APNs"). */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;

/** Device tokens are hex; 32 bytes today, Apple says they may grow (so 32..100 bytes). */
const TOKEN_PATTERN = /^(?:[0-9a-fA-F]{2}){32,100}$/;

export interface ApnsTransportOptions {
  /** The team's provider token, shared by every dispatcher process. */
  tokens: ApnsTokenStore;
  /** How long APNs keeps trying to reach an offline device (`apns-expiration`). */
  ttlSeconds: number;
}

/**
 * Sends alert pushes through APNs with token (p8) auth, one long-lived HTTP/2 connection per
 * environment.
 *
 * node-apn is used for its HTTP/2 client, with three things taken back from it:
 * - Retries: `connectionRetryLimit: 0`, exactly one request per send; the queue retries with
 *   jittered backoff (node-apn would retry at once).
 * - `retry-after`: node-apn reads `headers['Retry-After']` (HTTP/2 names are lower-case) and then
 *   deletes `retryAfter` from its errors; the session is wrapped to read the header itself.
 * - The provider token: node-apn signs its own JWT per Provider; here every provider reads the
 *   team's one shared JWT ({@link ApnsTokenStore}) and never re-signs.
 *
 * Never logs: device tokens and notification content must not reach logs.
 */
export class ApnsTransport {
  private readonly providers = new Map<ApnsDevice['environment'], Provider>();
  private closed = false;

  constructor(
    private readonly config: ApnsConfig,
    private readonly options: ApnsTransportOptions,
  ) {}

  async send(device: ApnsDevice, n: PushNotification): Promise<DeliveryResult> {
    if (this.closed) {
      throw new PushDeliveryError('apns', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.TransportClosed,
        message: 'APNs transport is shut down',
      });
    }
    if (!TOKEN_PATTERN.test(device.token)) {
      return {
        status: 'rejected',
        code: ErrorCode.InvalidToken,
        message: 'APNs device token is not a hex string of 64-200 digits',
      };
    }
    if (Buffer.byteLength(n.collapseKey, 'utf8') > APNS_MAX_COLLAPSE_ID_BYTES) {
      return {
        status: 'rejected',
        code: ErrorCode.BadCollapseId,
        message: `collapse key exceeds ${APNS_MAX_COLLAPSE_ID_BYTES} bytes`,
      };
    }
    // node-apn sends note.compile(), which is JSON.stringify(note): measure exactly that.
    const fitted = fitNotification(n, APNS_MAX_PAYLOAD_BYTES, (c) =>
      Buffer.byteLength(JSON.stringify(this.buildNotification(c)), 'utf8'),
    );
    if (!fitted) {
      return {
        status: 'rejected',
        code: ErrorCode.PayloadTooLarge,
        message: `APNs payload exceeds ${APNS_MAX_PAYLOAD_BYTES} bytes`,
      };
    }
    const note = this.buildNotification(fitted);

    let jwt: string;
    try {
      jwt = await this.options.tokens.current();
    } catch {
      throw new PushDeliveryError('apns', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.ProviderTokenUnavailable,
        message: 'The shared APNs provider token could not be read or minted',
      });
    }

    let failure: (ResponseFailure & { retryAfterMs?: number }) | undefined;
    let apnsId: string | undefined;
    try {
      const { sent, failed } = await this.provider(device.environment).send(note, device.token);
      if (sent.length > 0) {
        const id = (sent[0] as unknown as Record<string, unknown>)['apns-id'];
        apnsId = typeof id === 'string' ? id : undefined;
      } else {
        failure = failed[0] ?? { device: '', error: new Error('node-apn returned no result') };
      }
    } catch (err) {
      // Provider.send settles every recipient itself; a throw here is a local failure.
      failure = { device: '', error: err instanceof Error ? err : new Error('node-apn send failed') };
    }

    if (failure === undefined)
      return apnsId === undefined ? { status: 'delivered' } : { status: 'delivered', providerId: apnsId };

    const { classified, deadToken } = classifyApnsFailure(failure);
    if (deadToken) return { status: 'dead_token', code: classified.code };
    if (classified.code === ErrorCode.ExpiredProviderToken)
      await this.options.tokens.reportExpired(jwt).catch(() => undefined);
    if (classified.errorClass === ErrorClass.Permanent) {
      return { status: 'rejected', code: classified.code, message: classified.message };
    }
    throw new PushDeliveryError('apns', classified);
  }

  async close(): Promise<void> {
    this.closed = true;
    const providers = [...this.providers.values()];
    this.providers.clear();
    await Promise.all(providers.map((p) => shutdownProvider(p)));
  }

  private buildNotification(n: PushNotification): Notification {
    const note = new Notification();
    note.topic = this.config.topic;
    note.pushType = 'alert';
    note.priority = 10;
    note.expiry = Math.floor(Date.now() / 1000) + this.options.ttlSeconds;
    const alert: Partial<NotificationAlertOptions> = {};
    if (n.title) alert.title = n.title;
    if (n.body) alert.body = n.body;
    if (n.bodyLocKey) alert['loc-key'] = n.bodyLocKey;
    if (n.bodyLocArgs) alert['loc-args'] = n.bodyLocArgs;
    // APNs does not require `body` (a loc-key or title-only alert is valid); node-apn's typing does.
    note.alert = alert as NotificationAlertOptions;
    note.collapseId = n.collapseKey;
    note.threadId = n.threadId;
    // Lets a Notification Service Extension fetch/decrypt details before display.
    note.mutableContent = true;
    if (n.badge !== undefined) note.badge = n.badge;
    // Custom keys beside `aps`; node-apn always writes its own `aps` over a data key of that name.
    note.payload = { ...n.data };
    return note;
  }

  private provider(environment: ApnsDevice['environment']): Provider {
    let provider = this.providers.get(environment);
    if (!provider) {
      const options: ProviderOptions = {
        token: { key: this.config.keyPem, keyId: this.config.keyId, teamId: this.config.teamId },
        // Always explicit: node-apn otherwise derives it from NODE_ENV.
        production: environment === 'production',
        connectionRetryLimit: 0,
      };
      if (this.config.endpoint) {
        // Replaces both Apple hosts. The port must be its own option: one inside `address` is ignored.
        // TLS is verified against `address` with the default trust store (plus NODE_EXTRA_CA_CERTS).
        options.address = this.config.endpoint.host;
        options.port = this.config.endpoint.port;
      }
      provider = new Provider(options);
      adaptClient(provider, this.options.tokens);
      this.providers.set(environment, provider);
    }
    return provider;
  }
}

/** The parts of node-apn's (untyped) Client that are adapted, checked at run time. */
interface NodeApnClient {
  config: { token: unknown };
  request: (session: ClientHttp2Session, ...rest: unknown[]) => Promise<unknown>;
}

function isNodeApnClient(value: unknown): value is NodeApnClient {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.request === 'function' && typeof v.config === 'object' && v.config !== null && 'token' in v.config;
}

function adaptClient(provider: Provider, tokens: ApnsTokenStore): void {
  const client = (provider as unknown as { client?: unknown }).client;
  if (!isNodeApnClient(client)) throw new Error('unsupported @parse/node-apn version: Provider.client has changed');

  // The shape node-apn reads before every request (lib/client.js `request`): never expired, never
  // re-signed locally; ApnsTokenStore decides when the team's token changes.
  client.config.token = {
    generation: 0,
    iat: null,
    get current(): string {
      return tokens.peek() ?? '';
    },
    isExpired: (): boolean => false,
    regenerate: (): void => undefined,
  };

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
        (failure as { retryAfterMs?: number }).retryAfterMs = retryAfterMs;
      }
      throw failure;
    }
  };
}

/**
 * Provider.shutdown() takes a callback and returns nothing, whatever its typings say. It marks the
 * client destroyed and stops its ping timers at once, then waits for the session's 'close' event;
 * after a connection error (e.g. TLS refused) that event has already fired and the callback never
 * comes, so the wait is bounded.
 */
function shutdownProvider(provider: Provider, maxWaitMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    timer.unref();
    void provider.shutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
