import { randomUUID } from 'node:crypto';
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import {
  cert,
  deleteApp,
  initializeApp,
  type App,
  type Credential,
  type GoogleOAuthAccessToken,
} from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import type { FcmConfig } from '@mailpush/config/app-config';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import { classifyFcmError } from './fcm-error.classifier';
import { disableMessagingRetries, fcmPayloadBytes, type FcmContent } from './firebase-admin.adapter';
import { fitNotification } from './payload-fit';
import { PushDeliveryError, type DeliveryResult, type PushNotification } from './push-notification';

/** FCM HTTP v1: the message (without its target) must not exceed 4096 bytes. */
export const FCM_MAX_PAYLOAD_BYTES = 4096;

export interface FcmTransportOptions {
  /** How long FCM keeps trying to reach an offline device (`android.ttl`). */
  ttlSeconds: number;
  /** Concurrent HTTP/1.1 requests, hence keep-alive connections, per process. */
  maxSockets: number;
}

/**
 * Access token accepted by Firebase emulators (and by the local FCM fake). Used only when an
 * endpoint is configured without a service account, so it can never reach Google.
 */
export const EMULATOR_ACCESS_TOKEN = 'owner';

class StaticEmulatorCredential implements Credential {
  getAccessToken(): Promise<GoogleOAuthAccessToken> {
    // Long enough that firebase-admin (which refreshes 5 min before expiry) never asks again.
    return Promise.resolve({ access_token: EMULATOR_ACCESS_TOKEN, expires_in: 365 * 24 * 3600 });
  }
}

/**
 * firebase-admin has no endpoint override for messaging: `send()` always targets
 * `https://fcm.googleapis.com/v1/projects/<id>/messages:send` over HTTP/1.1 through
 * `AppOptions.httpAgent`. This agent dials the configured endpoint instead of the host in the
 * URL (like `curl --connect-to`), and verifies the server's certificate against the endpoint's
 * own name, exactly as a direct `https://<endpoint>` request would, with the default trust store
 * (plus NODE_EXTRA_CA_CERTS). Only the HTTP `Host` header still says fcm.googleapis.com.
 */
export class EndpointAgent extends Agent {
  constructor(
    private readonly endpoint: { host: string; port: number },
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(_options: RequestOptions, _callback?: (err: Error | null, stream: Duplex) => void): Duplex {
    const { host, port } = this.endpoint;
    return tlsConnect({
      host,
      port,
      // SNI and the identity check use the endpoint's name; no SNI for an IP (checked against IP SANs).
      servername: isIP(host) ? undefined : host,
      ALPNProtocols: ['http/1.1'],
    });
  }
}

/**
 * Sends notification messages through FCM HTTP v1 with firebase-admin (`Messaging.send`, one
 * request per message, HTTP/1.1 keep-alive).
 *
 * Messages are non-collapsible (no `collapse_key`): FCM keeps only four collapse keys per device
 * while it is offline, and collapsible messages are throttled to a burst of 20 then one per
 * 3 minutes. Duplicates still replace each other on the phone through `notification.tag`.
 *
 * Retries: firebase-admin's own retries are switched off (firebase-admin.adapter.ts); every failure is thrown as a
 * {@link PushDeliveryError} and the queue retries with jitter, honouring `retry-after`.
 * Never logs tokens or content.
 */
export class FcmTransport {
  private readonly app: App;
  private readonly messaging: Messaging;
  private readonly agent: Agent;
  private closed = false;

  constructor(
    config: FcmConfig,
    private readonly options: FcmTransportOptions,
  ) {
    let credential: Credential;
    if (config.serviceAccount) {
      const sa = config.serviceAccount;
      // The OAuth exchange goes to Google's token server directly, never to the endpoint.
      credential = cert({ projectId: sa.project_id, clientEmail: sa.client_email, privateKey: sa.private_key });
    } else if (config.endpoint) {
      credential = new StaticEmulatorCredential();
    } else {
      throw new Error('FcmTransport needs a service account, or an endpoint (emulator mode)');
    }
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.agent = config.endpoint ? new EndpointAgent(config.endpoint, agentOptions) : new Agent(agentOptions);
    this.app = initializeApp(
      { credential, projectId: config.projectId, httpAgent: this.agent },
      `mailpush-fcm-${randomUUID()}`,
    );
    this.messaging = getMessaging(this.app);
    disableMessagingRetries(this.messaging);
  }

  async send(token: string, n: PushNotification): Promise<DeliveryResult> {
    if (this.closed) {
      throw new PushDeliveryError('fcm', {
        errorClass: ErrorClass.Transient,
        code: ErrorCode.TransportClosed,
        message: 'FCM transport is shut down',
      });
    }
    if (token.length === 0 || /\s/.test(token)) {
      return {
        status: 'rejected',
        code: ErrorCode.InvalidToken,
        message: 'FCM registration token is empty or contains whitespace',
      };
    }
    const fitted = fitNotification(n, FCM_MAX_PAYLOAD_BYTES, (c) => fcmPayloadBytes(this.content(c)));
    if (!fitted) {
      return {
        status: 'rejected',
        code: ErrorCode.PayloadTooLarge,
        message: `FCM payload exceeds ${FCM_MAX_PAYLOAD_BYTES} bytes`,
      };
    }
    const message: Message = { token, ...this.content(fitted) };
    try {
      const name = await this.messaging.send(message);
      return { status: 'delivered', providerId: name };
    } catch (err) {
      const { classified, deadToken } = classifyFcmError(err);
      if (deadToken) return { status: 'dead_token', code: classified.code };
      if (classified.errorClass === ErrorClass.Permanent) {
        return { status: 'rejected', code: classified.code, message: classified.message };
      }
      throw new PushDeliveryError('fcm', classified);
    }
  }

  /** The message without its target, as firebase-admin takes it (camelCase). */
  private content(n: PushNotification): FcmContent {
    const notification: FcmContent['android']['notification'] = { tag: n.collapseKey };
    if (n.bodyLocKey) notification.bodyLocKey = n.bodyLocKey;
    if (n.bodyLocArgs) notification.bodyLocArgs = n.bodyLocArgs;
    if (n.badge !== undefined) notification.notificationCount = n.badge;
    return {
      notification: { ...(n.title ? { title: n.title } : {}), ...(n.body ? { body: n.body } : {}) },
      data: { ...n.data },
      // High priority only because every message shows a notification (FCM deprioritises apps that abuse it).
      android: { priority: 'high', ttl: this.options.ttlSeconds * 1000, notification },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await deleteApp(this.app);
    this.agent.destroy();
  }
}
