import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';

/** A request unanswered this long is given up as lost (the queue retries it). */
export const APNS_REQUEST_TIMEOUT_MS = 5_000;
/** Keeps an idle connection known-alive (Apple recommends pings over reconnecting). */
export const APNS_PING_INTERVAL_MS = 60_000;
/** Streams one connection carries at once, below Apple's advertised 1,000; the peer's own limit wins if lower. */
export const APNS_MAX_STREAMS = 500;
/** How long `close()` lets requests in flight finish before the connection is cut. */
export const APNS_CLOSE_WAIT_MS = 2_000;
/** A `reason` body is a few dozen bytes; anything longer is not Apple's. */
const MAX_ANSWER_BODY_BYTES = 4096;

/** Apple's hosts, one per environment ("Sending notification requests to APNs"). */
export const APNS_HOSTS = {
  production: 'api.push.apple.com',
  sandbox: 'api.sandbox.push.apple.com',
} as const;

export interface ApnsRequest {
  deviceToken: string;
  jwt: string;
  /** apns-* headers, already formatted. */
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** What APNs answered: the status, and for a failure Apple's `reason` and `retry-after`. */
export interface ApnsAnswer {
  status: number;
  apnsId?: string;
  reason?: string;
  retryAfter?: string;
}

/** Defaults: the APNS_* constants above (tests shorten them). */
export interface ApnsClientLimits {
  requestTimeoutMs?: number;
  maxStreams?: number;
  closeWaitMs?: number;
}

/**
 * One long-lived HTTP/2 connection to one APNs host: opened on first use, replaced after GOAWAY,
 * an error or a close, pinged while idle, with a bound on streams in flight. Sends exactly one
 * request per call (retries belong to the queue). A request with no answer rejects with the
 * network error (the connection's own when it failed) or a timeout.
 */
export class ApnsHttp2Client {
  private session: ClientHttp2Session | undefined;
  /** Why a connection failed: its streams only see a generic cancel. */
  private readonly sessionErrors = new WeakMap<ClientHttp2Session, Error>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly pinger: NodeJS.Timeout;
  /** Requests awaiting an answer, by deadline: one sweep timer instead of a timer per stream. */
  private readonly deadlines = new Set<Deadline>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  private readonly limits: Required<ApnsClientLimits>;

  constructor(
    private readonly origin: string,
    limits: ApnsClientLimits = {},
  ) {
    this.limits = {
      requestTimeoutMs: limits.requestTimeoutMs ?? APNS_REQUEST_TIMEOUT_MS,
      maxStreams: limits.maxStreams ?? APNS_MAX_STREAMS,
      closeWaitMs: limits.closeWaitMs ?? APNS_CLOSE_WAIT_MS,
    };
    this.pinger = setInterval(() => this.ping(), APNS_PING_INTERVAL_MS);
    this.pinger.unref();
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.limits.requestTimeoutMs / 4)));
    this.sweeper.unref();
  }

  async send(request: ApnsRequest): Promise<ApnsAnswer> {
    if (this.active >= this.streamLimit()) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await this.exchange(this.connected(), request);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Lets requests in flight finish (bounded by {@link APNS_CLOSE_WAIT_MS}), then cuts the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pinger);
    clearInterval(this.sweeper);
    const session = this.session;
    this.session = undefined;
    if (!session || session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        session.destroy();
        resolve();
      }, this.limits.closeWaitMs);
      timer.unref();
      session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private streamLimit(): number {
    const peer = this.session?.remoteSettings.maxConcurrentStreams;
    const own = this.limits.maxStreams;
    return peer !== undefined && peer > 0 ? Math.min(peer, own) : own;
  }

  private connected(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    if (this.closed) throw new Error('APNs client is closed');
    const session = connect(this.origin);
    this.session = session;
    const retire = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', (err: Error) => {
      this.sessionErrors.set(session, err);
      retire();
    });
    // Streams already accepted still finish on a GOAWAY'd session; new ones go to a new connection.
    session.on('goaway', retire);
    session.on('close', retire);
    session.on('frameError', () => {
      retire();
      session.destroy();
    });
    return session;
  }

  private exchange(session: ClientHttp2Session, request: ApnsRequest): Promise<ApnsAnswer> {
    return new Promise<ApnsAnswer>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${request.deviceToken}`,
        authorization: `bearer ${request.jwt}`,
        ...request.headers,
      });
      let headers: IncomingHttpHeaders | undefined;
      const body: Buffer[] = [];
      let bodyBytes = 0;
      let settled = false;
      const deadline: Deadline = {
        at: Date.now() + this.limits.requestTimeoutMs,
        expire: () => {
          fail(new Error('APNs request timeout'));
          stream.close(constants.NGHTTP2_CANCEL);
        },
      };
      this.deadlines.add(deadline);
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        this.deadlines.delete(deadline);
        reject(this.sessionErrors.get(session) ?? err);
      };
      stream.on('response', (h) => (headers = h));
      // Only a failure has a body (`{"reason": …}`); a 200 ends without data.
      stream.on('data', (chunk: Buffer) => {
        if (bodyBytes < MAX_ANSWER_BODY_BYTES) body.push(chunk);
        bodyBytes += chunk.length;
      });
      stream.on('end', () => {
        if (settled) return;
        if (headers === undefined) return fail(new Error('APNs stream ended without an answer'));
        settled = true;
        this.deadlines.delete(deadline);
        resolve(answerOf(headers, body.length === 0 ? '' : Buffer.concat(body).toString('utf8')));
      });
      stream.on('error', fail);
      stream.on('close', () => {
        // Reset before any answer (RST_STREAM, a connection torn down mid-request).
        if (!settled) fail(Object.assign(new Error('APNs stream closed'), { code: 'ERR_HTTP2_STREAM_ERROR' }));
      });
      stream.end(request.body);
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const deadline of this.deadlines) if (deadline.at <= now) deadline.expire();
  }

  private ping(): void {
    const session = this.session;
    if (!session || session.closed || session.destroyed || session.connecting) return;
    session.ping((err) => {
      if (err && this.session === session) {
        this.session = undefined;
        session.destroy();
      }
    });
  }
}

interface Deadline {
  at: number;
  expire: () => void;
}

function answerOf(headers: IncomingHttpHeaders, body: string): ApnsAnswer {
  const answer: ApnsAnswer = { status: Number(headers[':status']) };
  const apnsId = headers['apns-id'];
  if (typeof apnsId === 'string') answer.apnsId = apnsId;
  const retryAfter = headers['retry-after'];
  if (typeof retryAfter === 'string') answer.retryAfter = retryAfter;
  if (body !== '') {
    const reason = reasonOf(body);
    if (reason !== undefined) answer.reason = reason;
  }
  return answer;
}

function reasonOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const reason: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'reason') : undefined;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
}
