import { createPublicKey, randomUUID, verify, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  constants as h2,
  createSecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { issueServerCert } from '../harness/test-ca';
import { flattenHeaders, waitForCount, listenOnLoopback } from './fake-util';

/**
 * A strict local stand-in for the APNs provider API (HTTP/2 over TLS, token auth), checking what
 * Apple checks, in Apple's words (see "Handling notification responses from APNs"):
 * https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns
 */
export interface ApnsFakeOptions {
  teamId: string;
  keyId: string;
  /** Public half of the p8 key (SPKI PEM); the fake verifies every JWT's ES256 signature with it. */
  publicKeyPem: string;
  /** The app's bundle id: the only accepted `apns-topic`. */
  topic: string;
  /** Names in the server certificate (default localhost and 127.0.0.1). */
  certNames?: string[];
}

export interface ApnsQueuedResponse {
  status: number;
  reason: string;
  /** Sent as `retry-after` (Apple does not document one for APNs; the fake can send it anyway). */
  retryAfterSec?: number;
}

export interface ApnsRecordedRequest {
  /** Device token from the path (whatever the client sent, valid or not). */
  token: string;
  method: string;
  path: string;
  /** Request headers, lower-case, pseudo-headers and `authorization` included. */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when it did not parse. */
  payload: unknown;
  rawBody: string;
  receivedAt: number;
  status: number;
  /** Error reason sent back, when not 200. */
  reason?: string;
  /** `apns-id` sent back. */
  apnsId: string;
  /** Index of the TLS connection (HTTP/2 session) the request came on, from 0. */
  connection: number;
}

export interface ApnsFake {
  /** `https://127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** Ready to put into `ApnsConfig.endpoint`. */
  endpoint: { host: string; port: number };
  requests: ApnsRecordedRequest[];
  /** Requests answered 200. */
  delivered(): ApnsRecordedRequest[];
  /** Every distinct bearer JWT presented (valid or not). */
  jwtsSeen(): Set<string>;
  /** TLS connections accepted so far. */
  connectionCount(): number;
  markUnregistered(token: string, timestampMs?: number): void;
  markBadToken(token: string): void;
  /** Consumed in order, one per request to that token, after the request passed validation. */
  queueResponses(token: string, responses: ApnsQueuedResponse[]): void;
  /** Resolves once at least n requests have been recorded. */
  waitFor(n: number, timeoutMs?: number): Promise<ApnsRecordedRequest[]>;
  onRequest(listener: (req: ApnsRecordedRequest) => void): void;
  close(): Promise<void>;
}

const PUSH_TYPES = new Set([
  'alert',
  'background',
  'location',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'pushtotalk',
  'widgets',
]);
const MAX_PAYLOAD = 4096;
/** Voip pushes may be 5120 bytes. */
const MAX_VOIP_PAYLOAD = 5120;
const MAX_COLLAPSE_ID = 64;
const TOKEN_MAX_AGE_SEC = 3600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Verdict = { status: number; reason?: string; retryAfterSec?: number; timestamp?: number };

export async function startApnsFake(opts: ApnsFakeOptions): Promise<ApnsFake> {
  const publicKey = createPublicKey(opts.publicKeyPem);
  const { cert, key } = issueServerCert(opts.certNames ?? ['localhost', '127.0.0.1']);
  const server: Http2Server = createSecureServer({ cert, key, allowHTTP1: false });

  const requests: ApnsRecordedRequest[] = [];
  const jwts = new Set<string>();
  const verifiedJwts = new Map<string, boolean>();
  const unregistered = new Map<string, number>();
  const badTokens = new Set<string>();
  const queued = new Map<string, ApnsQueuedResponse[]>();
  const sessions = new Set<Http2Session>();
  const events = new EventEmitter();
  const sessionIndex = new WeakMap<Http2Session, number>();
  let connections = 0;

  server.on('session', (session) => {
    const index = connections++;
    sessions.add(session);
    sessionIndex.set(session, index);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('sessionError', () => undefined);

  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    stream.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const flat = flattenHeaders(headers);
      const path = flat[':path'] ?? '';
      const method = flat[':method'] ?? '';
      const token = path.startsWith('/3/device/') ? path.slice('/3/device/'.length) : '';
      let payload: unknown;
      try {
        payload = rawBody.length > 0 ? (JSON.parse(rawBody) as unknown) : undefined;
      } catch {
        payload = undefined;
      }

      const verdict = judge(method, path, token, flat, rawBody, size, payload);
      if (verdict.status === 200) {
        const canned = queued.get(token)?.shift();
        if (canned) Object.assign(verdict, canned);
        else if (badTokens.has(token)) Object.assign(verdict, { status: 400, reason: 'BadDeviceToken' });
        else if (unregistered.has(token))
          Object.assign(verdict, { status: 410, reason: 'Unregistered', timestamp: unregistered.get(token) });
      }

      const apnsId = flat['apns-id'] && UUID.test(flat['apns-id']) ? flat['apns-id'] : randomUUID();
      const record: ApnsRecordedRequest = {
        token,
        method,
        path,
        headers: flat,
        payload,
        rawBody,
        receivedAt: Date.now(),
        status: verdict.status,
        apnsId,
        connection: sessionIndex.get(stream.session as Http2Session) ?? -1,
      };
      if (verdict.reason) record.reason = verdict.reason;
      requests.push(record);

      const responseHeaders: Record<string, string | number> = {
        [h2.HTTP2_HEADER_STATUS]: verdict.status,
        'apns-id': apnsId,
      };
      if (verdict.retryAfterSec !== undefined) responseHeaders['retry-after'] = verdict.retryAfterSec;
      if (verdict.status === 200) {
        stream.respond(responseHeaders, { endStream: true });
      } else {
        responseHeaders['content-type'] = 'application/json';
        const body: Record<string, unknown> = { reason: verdict.reason };
        if (verdict.status === 410) body.timestamp = verdict.timestamp ?? Date.now();
        stream.respond(responseHeaders);
        stream.end(JSON.stringify(body));
      }
      events.emit('request', record);
    });
  });

  function judge(
    method: string,
    path: string,
    token: string,
    headers: Record<string, string>,
    rawBody: string,
    size: number,
    payload: unknown,
  ): Verdict {
    if (!path.startsWith('/3/device/')) return { status: 404, reason: 'BadPath' };
    if (method !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    if (token.length === 0) return { status: 400, reason: 'MissingDeviceToken' };

    const auth = checkProviderToken(headers['authorization']);
    if (auth) return auth;

    const topic = headers['apns-topic'];
    if (topic === undefined || topic === '') return { status: 400, reason: 'MissingTopic' };
    if (topic !== opts.topic) return { status: 400, reason: 'TopicDisallowed' };

    const apnsId = headers['apns-id'];
    if (apnsId !== undefined && !UUID.test(apnsId)) return { status: 400, reason: 'BadMessageId' };

    const pushType = headers['apns-push-type'];
    if (pushType === undefined || !PUSH_TYPES.has(pushType)) return { status: 400, reason: 'InvalidPushType' };

    const priority = headers['apns-priority'] ?? '10';
    if (!['1', '5', '10'].includes(priority)) return { status: 400, reason: 'BadPriority' };
    // Apple: priority 10 is an error for a push that only carries content-available.
    if (pushType === 'background' && priority === '10') return { status: 400, reason: 'BadPriority' };

    const collapseId = headers['apns-collapse-id'];
    if (collapseId !== undefined && Buffer.byteLength(collapseId, 'utf8') > MAX_COLLAPSE_ID)
      return { status: 400, reason: 'BadCollapseId' };

    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && !/^\d{1,10}$/.test(expiration)) return { status: 400, reason: 'BadExpirationDate' };

    if (size > (pushType === 'voip' ? MAX_VOIP_PAYLOAD : MAX_PAYLOAD))
      return { status: 413, reason: 'PayloadTooLarge' };
    // Apple documents no reason for malformed JSON; an unusable body is answered as PayloadEmpty.
    if (rawBody.trim().length === 0 || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return { status: 400, reason: 'PayloadEmpty' };
    }
    const aps = (payload as Record<string, unknown>).aps;
    if (typeof aps !== 'object' || aps === null) return { status: 400, reason: 'PayloadEmpty' };
    if (pushType === 'alert' && (aps as Record<string, unknown>).alert === undefined)
      return { status: 400, reason: 'InvalidPushType' };

    if (!/^(?:[0-9a-f]{64})$/i.test(token)) return { status: 400, reason: 'BadDeviceToken' };
    return { status: 200 };
  }

  function checkProviderToken(authorization: string | undefined): Verdict | undefined {
    if (authorization === undefined || authorization === '') return { status: 403, reason: 'MissingProviderToken' };
    const match = /^bearer\s+(\S+)$/i.exec(authorization);
    if (!match) return { status: 403, reason: 'InvalidProviderToken' };
    const jwt = match[1];
    jwts.add(jwt);
    const parts = jwt.split('.');
    if (parts.length !== 3) return { status: 403, reason: 'InvalidProviderToken' };
    const header = decodeJson(parts[0]);
    const claims = decodeJson(parts[1]);
    if (!header || !claims) return { status: 403, reason: 'InvalidProviderToken' };
    if (header.alg !== 'ES256' || header.kid !== opts.keyId) return { status: 403, reason: 'InvalidProviderToken' };
    if (claims.iss !== opts.teamId || typeof claims.iat !== 'number')
      return { status: 403, reason: 'InvalidProviderToken' };
    // One ECDSA verification per distinct token (as Apple surely does): a benchmark measures the
    // dispatcher, not the fake's crypto. The time checks below still run on every request.
    let signatureOk = verifiedJwts.get(jwt);
    if (signatureOk === undefined) {
      signatureOk = verifyEs256(`${parts[0]}.${parts[1]}`, parts[2], publicKey);
      if (verifiedJwts.size >= 1000) verifiedJwts.clear();
      verifiedJwts.set(jwt, signatureOk);
    }
    if (!signatureOk) return { status: 403, reason: 'InvalidProviderToken' };
    const now = Math.floor(Date.now() / 1000);
    if (claims.iat > now + 60) return { status: 403, reason: 'InvalidProviderToken' };
    if (now - claims.iat > TOKEN_MAX_AGE_SEC) return { status: 403, reason: 'ExpiredProviderToken' };
    return undefined;
  }

  const port = await listenOnLoopback(server);
  const host = '127.0.0.1';

  return {
    url: `https://${host}:${port}`,
    host,
    port,
    endpoint: { host, port },
    requests,
    delivered: () => requests.filter((r) => r.status === 200),
    jwtsSeen: () => new Set(jwts),
    connectionCount: () => connections,
    markUnregistered: (token, timestampMs = Date.now()) => void unregistered.set(token, timestampMs),
    markBadToken: (token) => void badTokens.add(token),
    queueResponses: (token, responses) => void queued.set(token, [...(queued.get(token) ?? []), ...responses]),
    waitFor: (n, timeoutMs = 5000) => waitForCount(events, requests, n, timeoutMs),
    onRequest: (listener) => void events.on('request', listener),
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** JWS ES256: the signature is r||s (64 bytes), not DER. */
function verifyEs256(signingInput: string, signature: string, key: KeyObject): boolean {
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== 64) return false;
  try {
    return verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}
