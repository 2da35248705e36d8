import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createSecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import { issueServerCert } from '../harness/test-ca';
import { flattenHeaders, waitForCount, listenOnLoopback } from './fake-util';

/**
 * A strict local stand-in for FCM HTTP v1 `projects.messages.send`, answering with Google's
 * status codes and error bodies (google.rpc.Status with FcmError / BadRequest details):
 * https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages
 * https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode
 *
 * HTTPS with HTTP/2 and HTTP/1.1 (ALPN). firebase-admin's `send()` uses HTTP/1.1. Its HTTP/2 path
 * (`sendEach`) sends `:scheme: "https:"`, which the nghttp2 inside node:http2 resets
 * (PROTOCOL_ERROR) before any JavaScript sees the stream, so no node:http2 server can accept it:
 * an HTTP/2 client of this fake must send a valid `:scheme`.
 */
export interface FcmFakeOptions {
  projectId: string;
  /** Bearer token to accept (default 'owner', what Firebase emulators accept). */
  accessToken?: string;
  /** Names in the server certificate (default fcm.googleapis.com, localhost, 127.0.0.1). */
  certNames?: string[];
}

/** A canned answer; body and status string are Google's for the FCM error code. */
export interface FcmQueuedResponse {
  status: number;
  /** FcmError code (UNREGISTERED, INVALID_ARGUMENT, QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, ...); default from status. */
  errorCode?: string;
  message?: string;
  retryAfterSec?: number;
}

export interface FcmRecordedRequest {
  /** message.token, when there was one. */
  token?: string;
  method: string;
  path: string;
  httpVersion: string;
  /** Lower-case request headers (`authorization` included). */
  headers: Record<string, string>;
  /** Parsed request body (`{ message, validate_only? }`), undefined when it did not parse. */
  body: unknown;
  /** Same as `body` (named like the APNs fake's field). */
  payload: unknown;
  /** Parsed `message`, for convenience. */
  message?: Record<string, unknown>;
  rawBody: string;
  receivedAt: number;
  status: number;
  /** FcmError code or google.rpc status of an error answer. */
  errorCode?: string;
  errorMessage?: string;
  validateOnly: boolean;
  /** Message name returned on success. */
  name?: string;
}

export interface FcmFake {
  /** `https://127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** Ready to put into `FcmConfig.endpoint`. */
  endpoint: { host: string; port: number; origin: string };
  requests: FcmRecordedRequest[];
  /** Requests answered 200 that were real sends (not validate_only). */
  delivered(): FcmRecordedRequest[];
  /** TLS connections accepted so far. */
  connectionCount(): number;
  markUnregistered(token: string): void;
  /** Consumed in order, one per request to that token, after the request passed validation. */
  queueResponses(token: string, responses: FcmQueuedResponse[]): void;
  waitFor(n: number, timeoutMs?: number): Promise<FcmRecordedRequest[]>;
  onRequest(listener: (req: FcmRecordedRequest) => void): void;
  close(): Promise<void>;
}

const MAX_PAYLOAD = 4096;
const MAX_TTL_SEC = 28 * 24 * 3600;
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

/** FcmError code -> [HTTP status, google.rpc status, message]. */
const FCM_ERRORS: Record<string, [number, string, string]> = {
  UNSPECIFIED_ERROR: [500, 'UNKNOWN', 'Unknown error.'],
  INVALID_ARGUMENT: [400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  UNREGISTERED: [404, 'NOT_FOUND', 'Requested entity was not found.'],
  SENDER_ID_MISMATCH: [403, 'PERMISSION_DENIED', 'SenderId mismatch'],
  QUOTA_EXCEEDED: [429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for the target device or project.'],
  UNAVAILABLE: [503, 'UNAVAILABLE', 'The service is currently unavailable.'],
  INTERNAL: [500, 'INTERNAL', 'Internal error encountered.'],
  THIRD_PARTY_AUTH_ERROR: [401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service'],
};
const DEFAULT_CODE_FOR_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'THIRD_PARTY_AUTH_ERROR',
  403: 'SENDER_ID_MISMATCH',
  404: 'UNREGISTERED',
  429: 'QUOTA_EXCEEDED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

// ----------------------------------------------------------------------------------------------
// The v1 Message schema (proto field names; JSON may also use lowerCamelCase, like the real API).
// ----------------------------------------------------------------------------------------------

type FieldType =
  | 'string'
  | 'bool'
  | 'int'
  | 'stringMap'
  | 'struct'
  | 'stringArray'
  | 'array'
  | 'duration'
  | 'timestamp'
  | { enum: string; values: string[] }
  | { message: string; fields: Schema };
type Schema = Record<string, FieldType>;

const NOTIFICATION: Schema = { title: 'string', body: 'string', image: 'string' };
const ANDROID_NOTIFICATION: Schema = {
  title: 'string',
  body: 'string',
  icon: 'string',
  color: 'string',
  sound: 'string',
  tag: 'string',
  click_action: 'string',
  body_loc_key: 'string',
  body_loc_args: 'stringArray',
  title_loc_key: 'string',
  title_loc_args: 'stringArray',
  channel_id: 'string',
  ticker: 'string',
  sticky: 'bool',
  event_time: 'timestamp',
  local_only: 'bool',
  notification_priority: {
    enum: 'google.firebase.fcm.v1.AndroidNotification.NotificationPriority',
    values: [
      'PRIORITY_UNSPECIFIED',
      'PRIORITY_MIN',
      'PRIORITY_LOW',
      'PRIORITY_DEFAULT',
      'PRIORITY_HIGH',
      'PRIORITY_MAX',
    ],
  },
  default_sound: 'bool',
  default_vibrate_timings: 'bool',
  default_light_settings: 'bool',
  vibrate_timings: 'array',
  visibility: {
    enum: 'google.firebase.fcm.v1.AndroidNotification.Visibility',
    values: ['VISIBILITY_UNSPECIFIED', 'PRIVATE', 'PUBLIC', 'SECRET'],
  },
  notification_count: 'int',
  light_settings: 'struct',
  image: 'string',
  bypass_proxy_notification: 'bool',
  proxy: {
    enum: 'google.firebase.fcm.v1.AndroidNotification.Proxy',
    values: ['PROXY_UNSPECIFIED', 'ALLOW', 'DENY', 'IF_PRIORITY_LOWERED'],
  },
};
const ANDROID: Schema = {
  collapse_key: 'string',
  priority: { enum: 'google.firebase.fcm.v1.AndroidMessagePriority', values: ['NORMAL', 'HIGH'] },
  ttl: 'duration',
  restricted_package_name: 'string',
  data: 'stringMap',
  notification: { message: 'google.firebase.fcm.v1.AndroidNotification', fields: ANDROID_NOTIFICATION },
  fcm_options: { message: 'google.firebase.fcm.v1.AndroidFcmOptions', fields: { analytics_label: 'string' } },
  direct_boot_ok: 'bool',
  bandwidth_constrained_ok: 'bool',
  restricted_satellite_ok: 'bool',
};
const WEBPUSH: Schema = {
  headers: 'stringMap',
  data: 'stringMap',
  notification: 'struct',
  fcm_options: {
    message: 'google.firebase.fcm.v1.WebpushFcmOptions',
    fields: { link: 'string', analytics_label: 'string' },
  },
};
const APNS: Schema = {
  headers: 'stringMap',
  payload: 'struct',
  fcm_options: {
    message: 'google.firebase.fcm.v1.ApnsFcmOptions',
    fields: { analytics_label: 'string', image: 'string' },
  },
  live_activity_token: 'string',
};
const MESSAGE: Schema = {
  name: 'string',
  data: 'stringMap',
  notification: { message: 'google.firebase.fcm.v1.Notification', fields: NOTIFICATION },
  android: { message: 'google.firebase.fcm.v1.AndroidConfig', fields: ANDROID },
  webpush: { message: 'google.firebase.fcm.v1.WebpushConfig', fields: WEBPUSH },
  apns: { message: 'google.firebase.fcm.v1.ApnsConfig', fields: APNS },
  fcm_options: { message: 'google.firebase.fcm.v1.FcmOptions', fields: { analytics_label: 'string' } },
  token: 'string',
  topic: 'string',
  condition: 'string',
};
const SEND_REQUEST: Schema = {
  message: { message: 'google.firebase.fcm.v1.Message', fields: MESSAGE },
  validate_only: 'bool',
};

interface Violation {
  field: string;
  description: string;
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function typeLabel(type: FieldType): string {
  if (typeof type === 'object')
    return 'enum' in type ? `type.googleapis.com/${type.enum}` : `type.googleapis.com/${type.message}`;
  switch (type) {
    case 'string':
      return 'TYPE_STRING';
    case 'bool':
      return 'TYPE_BOOL';
    case 'int':
      return 'TYPE_INT32';
    case 'duration':
      return 'type.googleapis.com/google.protobuf.Duration';
    case 'timestamp':
      return 'type.googleapis.com/google.protobuf.Timestamp';
    default:
      return 'TYPE_MESSAGE';
  }
}

function validateObject(value: Record<string, unknown>, schema: Schema, path: string, out: Violation[]): void {
  for (const [key, fieldValue] of Object.entries(value)) {
    const name = schema[key] !== undefined ? key : snakeCase(key);
    const type = schema[name];
    const at = path ? `${path}.${name}` : name;
    if (type === undefined) {
      const where = path ? ` at '${path}'` : '';
      out.push({
        field: path,
        description: `Invalid JSON payload received. Unknown name ${JSON.stringify(key)}${where}: Cannot find field.`,
      });
      continue;
    }
    if (fieldValue === null) continue; // JSON null means "default" in proto3 JSON.
    validateValue(fieldValue, type, at, out);
  }
}

function validateValue(value: unknown, type: FieldType, at: string, out: Violation[]): void {
  const invalid = (): void =>
    void out.push({ field: at, description: `Invalid value at '${at}' (${typeLabel(type)}), ${show(value)}` });
  if (typeof type === 'object') {
    if ('enum' in type) {
      if (typeof value !== 'string' || !type.values.includes(value.toUpperCase())) invalid();
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value)) return invalid();
    validateObject(value as Record<string, unknown>, type.fields, at, out);
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') invalid();
      return;
    case 'bool':
      if (typeof value !== 'boolean') invalid();
      return;
    case 'int':
      if (
        !(typeof value === 'number' && Number.isInteger(value)) &&
        !(typeof value === 'string' && /^-?\d+$/.test(value))
      )
        invalid();
      return;
    case 'duration':
      if (typeof value !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(value)) invalid();
      return;
    case 'timestamp':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) invalid();
      return;
    case 'struct':
      if (typeof value !== 'object' || Array.isArray(value)) invalid();
      return;
    case 'array':
      if (!Array.isArray(value)) invalid();
      return;
    case 'stringArray':
      if (!Array.isArray(value)) return invalid();
      value.forEach((item, i) => {
        if (typeof item !== 'string')
          out.push({
            field: `${at}[${i}]`,
            description: `Invalid value at '${at}[${i}]' (TYPE_STRING), ${show(item)}`,
          });
      });
      return;
    case 'stringMap':
      if (typeof value !== 'object' || Array.isArray(value)) return invalid();
      Object.values(value as Record<string, unknown>).forEach((item, i) => {
        if (typeof item !== 'string') {
          out.push({
            field: `${at}[${i}].value`,
            description: `Invalid value at '${at}[${i}].value' (TYPE_STRING), ${show(item)}`,
          });
        }
      });
      return;
  }
}

// ----------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  /** JSON body, or a string sent as text/html. */
  body: string | Record<string, unknown>;
  headers?: Record<string, string | number>;
  errorCode?: string;
  errorMessage?: string;
  name?: string;
}

function fcmError(errorCode: string, overrides: { status?: number; message?: string } = {}): Answer {
  const [status, rpcStatus, message] = FCM_ERRORS[errorCode] ?? [overrides.status ?? 500, 'UNKNOWN', 'Unknown error.'];
  const code = overrides.status ?? status;
  const text = overrides.message ?? message;
  return {
    status: code,
    body: { error: { code, message: text, status: rpcStatus, details: [{ '@type': FCM_ERROR_TYPE, errorCode }] } },
    errorCode,
    errorMessage: text,
  };
}

function badRequest(violations: Violation[]): Answer {
  const message = violations.map((v) => v.description).join('\n');
  return {
    status: 400,
    body: {
      error: {
        code: 400,
        message,
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': BAD_REQUEST_TYPE,
            fieldViolations: violations.map((v) =>
              v.field ? { field: v.field, description: v.description } : { description: v.description },
            ),
          },
        ],
      },
    },
    errorCode: 'INVALID_ARGUMENT',
    errorMessage: message,
  };
}

function rpcError(code: number, status: string, message: string): Answer {
  return { status: code, body: { error: { code, message, status } }, errorCode: status, errorMessage: message };
}

export async function startFcmFake(opts: FcmFakeOptions): Promise<FcmFake> {
  const accessToken = opts.accessToken ?? 'owner';
  const sendPath = `/v1/projects/${opts.projectId}/messages:send`;
  const { cert, key } = issueServerCert(opts.certNames ?? ['fcm.googleapis.com', 'localhost', '127.0.0.1']);
  const server: Http2Server = createSecureServer({ cert, key, allowHTTP1: true });

  const requests: FcmRecordedRequest[] = [];
  const idSuffix = randomBytes(8).toString('hex');
  let messageCounter = 0;
  const unregistered = new Set<string>();
  const queued = new Map<string, FcmQueuedResponse[]>();
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  const events = new EventEmitter();
  let connections = 0;

  server.on('secureConnection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('sessionError', () => undefined);

  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1024 * 1024) chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const headers = flattenHeaders(req.headers);
      let payload: unknown;
      try {
        payload = rawBody.length > 0 ? (JSON.parse(rawBody) as unknown) : undefined;
      } catch {
        payload = undefined;
      }
      const message =
        typeof payload === 'object' &&
        payload !== null &&
        typeof (payload as Record<string, unknown>).message === 'object'
          ? ((payload as Record<string, unknown>).message as Record<string, unknown>)
          : undefined;
      const token = typeof message?.token === 'string' ? message.token : undefined;
      const body = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
      const validateOnly = body.validate_only === true || body.validateOnly === true;

      const answer = handle(req.method, req.url, headers, rawBody, payload, message, token, validateOnly);

      const record: FcmRecordedRequest = {
        method: req.method,
        path: req.url,
        httpVersion: req.httpVersion,
        headers,
        body: payload,
        payload,
        rawBody,
        receivedAt: Date.now(),
        status: answer.status,
        validateOnly,
      };
      if (token !== undefined) record.token = token;
      if (message !== undefined) record.message = message;
      if (answer.errorCode !== undefined) record.errorCode = answer.errorCode;
      if (answer.errorMessage !== undefined) record.errorMessage = answer.errorMessage;
      if (answer.name !== undefined) record.name = answer.name;
      requests.push(record);

      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2);
      res.writeHead(answer.status, {
        'content-type':
          typeof answer.body === 'string' ? 'text/html; charset=UTF-8' : 'application/json; charset=UTF-8',
        ...answer.headers,
      });
      res.end(text);
      events.emit('request', record);
    });
  });

  function handle(
    method: string,
    url: string,
    headers: Record<string, string>,
    rawBody: string,
    payload: unknown,
    message: Record<string, unknown> | undefined,
    token: string | undefined,
    validateOnly: boolean,
  ): Answer {
    const path = url.split('?')[0];
    const projectSend = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (!projectSend || method !== 'POST') {
      return {
        status: 404,
        body: `<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)!!1</title><p>The requested URL <code>${path}</code> was not found on this server.</p></html>`,
      };
    }

    const authorization = headers['authorization'];
    if (authorization === undefined) {
      return withAuthChallenge(
        rpcError(
          401,
          'UNAUTHENTICATED',
          'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        ),
      );
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!bearer || bearer[1] !== accessToken) {
      return withAuthChallenge(
        rpcError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        ),
      );
    }
    if (path !== sendPath) {
      return rpcError(
        403,
        'PERMISSION_DENIED',
        `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectSend[1]}' (or it may not exist).`,
      );
    }

    if (payload === undefined || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      const what =
        rawBody.trim().length === 0
          ? 'Invalid JSON payload received. Expected an object.'
          : 'Invalid JSON payload received. Unexpected token.';
      return badRequest([{ field: '', description: what }]);
    }
    const violations: Violation[] = [];
    validateObject(payload as Record<string, unknown>, SEND_REQUEST, '', violations);
    if (violations.length > 0) return badRequest(violations);
    if (message === undefined)
      return fcmError('INVALID_ARGUMENT', { message: 'Request contains an invalid argument.' });

    const targets = ['token', 'topic', 'condition'].filter((t) => typeof message[t] === 'string' && message[t] !== '');
    if (targets.length === 0) return fcmError('INVALID_ARGUMENT', { message: 'Recipient of the message is not set.' });
    if (targets.length > 1) {
      return badRequest([
        {
          field: 'message',
          description: `Invalid value at 'message' (oneof), oneof field 'target' is already set. Cannot set '${targets[1]}'`,
        },
      ]);
    }

    const android = (message.android ?? undefined) as Record<string, unknown> | undefined;
    const ttl = android?.ttl;
    if (typeof ttl === 'string' && Number.parseFloat(ttl) > MAX_TTL_SEC) {
      return fcmError('INVALID_ARGUMENT', { message: `The TTL of the message is too long: ${ttl}` });
    }
    if (token !== undefined && (/\s/.test(token) || token.length > 4096)) {
      return fcmError('INVALID_ARGUMENT', { message: 'The registration token is not a valid FCM registration token' });
    }

    const content = { ...message };
    for (const field of ['token', 'topic', 'condition', 'name']) delete content[field];
    if (Buffer.byteLength(JSON.stringify(content), 'utf8') > MAX_PAYLOAD) {
      return fcmError('INVALID_ARGUMENT', { message: 'Message is too big' });
    }

    const target = token ?? '';
    const canned = queued.get(target)?.shift();
    if (canned) {
      if (canned.status === 200) return success(validateOnly);
      const errorCode = canned.errorCode ?? DEFAULT_CODE_FOR_STATUS[canned.status] ?? 'UNSPECIFIED_ERROR';
      const answer = fcmError(errorCode, { status: canned.status, message: canned.message });
      if (canned.retryAfterSec !== undefined) answer.headers = { 'retry-after': canned.retryAfterSec };
      return answer;
    }
    if (token !== undefined && unregistered.has(token)) return fcmError('UNREGISTERED');
    return success(validateOnly);
  }

  function success(validateOnly: boolean): Answer {
    // Dry runs answer with this fixed name on the real service too.
    // Real ids look like `0:1700000000000000%31bd1c9631bd1c96`; a counter keeps them unique cheaply.
    const id = validateOnly
      ? 'fake_message_id'
      : `0:${Date.now()}${String(++messageCounter).padStart(6, '0')}%${idSuffix}`;
    const name = `projects/${opts.projectId}/messages/${id}`;
    return { status: 200, body: { name }, name };
  }

  const port = await listenOnLoopback(server);
  const host = '127.0.0.1';
  const url = `https://${host}:${port}`;

  return {
    url,
    host,
    port,
    endpoint: { host, port, origin: url },
    requests,
    delivered: () => requests.filter((r) => r.status === 200 && !r.validateOnly),
    connectionCount: () => connections,
    markUnregistered: (token) => void unregistered.add(token),
    queueResponses: (token, responses) => void queued.set(token, [...(queued.get(token) ?? []), ...responses]),
    waitFor: (n, timeoutMs = 5000) => waitForCount(events, requests, n, timeoutMs),
    onRequest: (listener) => void events.on('request', listener),
    close: async () => {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function withAuthChallenge(answer: Answer): Answer {
  answer.headers = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' };
  return answer;
}
