import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { issueServerCert } from '../harness/test-ca';
import { waitForCount, listenOnLoopback } from './fake-util';

/**
 * A strict local push service (what a browser's subscription endpoint points at): RFC 8030
 * (TTL, Urgency, Topic), RFC 8292 VAPID (`Authorization: vapid t=<ES256 JWT>, k=<public key>`,
 * checked: signature with k, `aud` = this origin, `exp` within 24 h, `sub`), and RFC 8291
 * payload encryption (`Content-Encoding: aes128gcm`, decrypted here with the subscription's own
 * private key, the way a browser would).
 */
export interface WebPushSubscriptionJson {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface WebPushRecordedRequest {
  /** Subscription id from the path (`/push/<id>`). */
  id: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  receivedAt: number;
  status: number;
  /** Why the request was refused, in the fake's words. */
  reason?: string;
  /** The decrypted payload (UTF-8), when it decrypted. */
  plaintext?: string;
  /** Claims of the VAPID JWT, when it verified. */
  vapid?: { aud: string; exp: number; sub: string; publicKey: string };
  /** Size of the encrypted body. */
  bodyBytes: number;
}

export interface WebPushQueuedResponse {
  status: number;
  retryAfterSec?: number;
}

export interface WebPushFake {
  /** `https://127.0.0.1:<port>`: the VAPID audience. */
  origin: string;
  requests: WebPushRecordedRequest[];
  /** Requests accepted (201). */
  delivered(): WebPushRecordedRequest[];
  /** A new browser subscription; with `applicationServerKey`, only that VAPID key is accepted for it. */
  subscribe(options?: { applicationServerKey?: string }): WebPushSubscriptionJson;
  /** The subscription expired or was revoked: 410 Gone from now on (or 404). */
  markGone(endpoint: string, status?: 404 | 410): void;
  /** Consumed in order, one per request to that endpoint, after the request passed validation. */
  queueResponses(endpoint: string, responses: WebPushQueuedResponse[]): void;
  waitFor(n: number, timeoutMs?: number): Promise<WebPushRecordedRequest[]>;
  close(): Promise<void>;
}

interface Subscriber {
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  applicationServerKey?: string;
  gone?: 404 | 410;
  queued: WebPushQueuedResponse[];
}

const MAX_BODY = 4096;
const MAX_VAPID_EXP_SEC = 24 * 3600;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);

class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

export async function startWebPushFake(): Promise<WebPushFake> {
  const { cert, key } = issueServerCert(['localhost', '127.0.0.1']);
  const server: Server = createServer({ cert, key });
  const subscribers = new Map<string, Subscriber>();
  const requests: WebPushRecordedRequest[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = await listenOnLoopback(server);
  const origin = `https://127.0.0.1:${port}`;

  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY + 1024) chunks.push(chunk);
    });
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const path = req.url ?? '';
      const id = path.startsWith('/push/') ? path.slice('/push/'.length) : '';
      const record: WebPushRecordedRequest = {
        id,
        method: req.method ?? '',
        path,
        headers,
        receivedAt: Date.now(),
        status: 201,
        bodyBytes: size,
      };
      const responseHeaders: Record<string, string | number> = {};
      try {
        const sub = subscribers.get(id);
        if (req.method !== 'POST' || !sub) throw new Refusal(404, 'no such subscription');
        record.vapid = checkVapid(headers['authorization'], sub);
        checkHeaders(headers);
        if (size > MAX_BODY) throw new Refusal(413, 'payload too large');
        if (size > 0) {
          if (headers['content-encoding'] !== 'aes128gcm') throw new Refusal(415, 'Content-Encoding must be aes128gcm');
          record.plaintext = decrypt(Buffer.concat(chunks), sub).toString('utf8');
        }
        if (sub.gone) throw new Refusal(sub.gone, 'subscription gone');
        const canned = sub.queued.shift();
        if (canned && canned.status !== 201) {
          if (canned.retryAfterSec !== undefined) responseHeaders['retry-after'] = canned.retryAfterSec;
          throw new Refusal(canned.status, 'canned answer');
        }
        responseHeaders['location'] = `${origin}/message/${randomUUID()}`;
      } catch (err) {
        record.status = err instanceof Refusal ? err.status : 400;
        record.reason = err instanceof Error ? err.message : String(err);
        delete record.plaintext;
      }
      requests.push(record);
      res.writeHead(record.status, { 'content-type': 'text/plain', ...responseHeaders });
      res.end(record.status === 201 ? '' : (record.reason ?? ''));
      events.emit('request', record);
    });
  });

  function checkVapid(authorization: string | undefined, sub: Subscriber): WebPushRecordedRequest['vapid'] {
    const match = /^vapid\s+(.+)$/i.exec(authorization ?? '');
    if (!match?.[1]) throw new Refusal(401, 'missing VAPID authorization');
    const params = new Map<string, string>();
    for (const part of match[1].split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const jwt = params.get('t');
    const k = params.get('k');
    if (!jwt || !k) throw new Refusal(401, 'VAPID needs t= and k=');
    const publicKey = rawP256PublicKey(k);
    const [h, c, s] = jwt.split('.');
    if (!h || !c || !s) throw new Refusal(401, 'malformed VAPID JWT');
    const header = decodeJson(h);
    const claims = decodeJson(c);
    if (header?.alg !== 'ES256') throw new Refusal(401, 'VAPID JWT must be ES256');
    const signature = Buffer.from(s, 'base64url');
    if (
      signature.length !== 64 ||
      !verify('sha256', Buffer.from(`${h}.${c}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
    ) {
      throw new Refusal(401, 'VAPID signature does not verify with k');
    }
    const now = Math.floor(Date.now() / 1000);
    if (claims?.aud !== origin) throw new Refusal(401, `VAPID aud must be ${origin}`);
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + MAX_VAPID_EXP_SEC)
      throw new Refusal(401, 'VAPID exp must be within 24 hours');
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
      throw new Refusal(401, 'VAPID sub must be mailto: or https:');
    if (sub.applicationServerKey !== undefined && sub.applicationServerKey !== k)
      throw new Refusal(403, 'VAPID key is not the one this subscription was made with');
    return { aud: claims.aud, exp: claims.exp, sub: claims.sub, publicKey: k };
  }

  return {
    origin,
    requests,
    delivered: () => requests.filter((r) => r.status === 201),
    subscribe(options = {}) {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(12).toString('hex');
      subscribers.set(id, { ecdh, publicKey, auth, applicationServerKey: options.applicationServerKey, queued: [] });
      return {
        endpoint: `${origin}/push/${id}`,
        expirationTime: null,
        keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    markGone(endpoint, status = 410) {
      const sub = subscribers.get(idOf(endpoint));
      if (sub) sub.gone = status;
    },
    queueResponses(endpoint, responses) {
      subscribers.get(idOf(endpoint))?.queued.push(...responses);
    },
    waitFor: (n, timeoutMs = 5000) => waitForCount(events, requests, n, timeoutMs),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function idOf(endpoint: string): string {
  return new URL(endpoint).pathname.replace(/^\/push\//, '');
}

function checkHeaders(headers: Record<string, string>): void {
  const ttl = headers['ttl'];
  if (ttl === undefined || !/^\d{1,10}$/.test(ttl)) throw new Refusal(400, 'TTL header is required (RFC 8030 §5.2)');
  const urgency = headers['urgency'];
  if (urgency !== undefined && !URGENCIES.has(urgency)) throw new Refusal(400, 'bad Urgency');
  const topic = headers['topic'];
  if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic))
    throw new Refusal(400, 'Topic must be at most 32 base64url characters');
}

function rawP256PublicKey(k: string): KeyObject {
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 0x04) throw new Refusal(401, 'k is not an uncompressed P-256 key');
  try {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    throw new Refusal(401, 'k is not a point on P-256');
  }
}

/** RFC 8291 §3.4 + RFC 8188: what the browser does with a push message body. */
function decrypt(body: Buffer, sub: Subscriber): Buffer {
  if (body.length < 21) throw new Refusal(400, 'body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idLength = body[20] ?? 0;
  const senderPublicKey = body.subarray(21, 21 + idLength);
  if (idLength !== 65 || rs < 18) throw new Refusal(400, 'aes128gcm header: keyid must be the 65-byte sender key');
  const records = body.subarray(21 + idLength);
  let secret: Buffer;
  try {
    secret = sub.ecdh.computeSecret(senderPublicKey);
  } catch {
    throw new Refusal(400, 'sender key is not on the curve');
  }
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, senderPublicKey]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const out: Buffer[] = [];
  for (let offset = 0, seq = 0; offset < records.length; offset += rs, seq++) {
    const record = records.subarray(offset, Math.min(records.length, offset + rs));
    const iv = Buffer.from(nonce);
    // Sequence numbers here stay far below 2^32: XOR into the last four bytes only.
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, iv);
    decipher.setAuthTag(record.subarray(record.length - 16));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    } catch {
      throw new Refusal(400, 'payload does not decrypt with the subscription keys');
    }
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = offset + rs >= records.length;
    if (plain[end] !== (last ? 2 : 1)) throw new Refusal(400, 'bad record padding delimiter');
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
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
