import { type BeforeApplicationShutdown, HttpStatus, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ErrorCode } from '@mailpush/errors';
import { ApiError } from '../common/api-error';
import { UserEventsSubscriber } from './user-events.subscriber';

/** Proxies and load balancers close a silent connection after 30-60 s; a comment line keeps it open. */
const HEARTBEAT_MS = 15_000;
/** Client reconnect delay the stream asks for (EventSource `retry`). */
const RECONNECT_MS = 3_000;
/** Per user and API process: a tab leak must not eat the server's sockets. */
const MAX_STREAMS_PER_USER = 10;
/** A client that stops reading is dropped before its backlog grows without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

@Injectable()
export class EventStreamService implements BeforeApplicationShutdown {
  /** Open streams never end by themselves: they are ended before the server waits for its connections. */
  private readonly open = new Set<() => void>();

  constructor(private readonly subscriber: UserEventsSubscriber) {}

  beforeApplicationShutdown(): void {
    for (const close of [...this.open]) close();
  }

  /**
   * Streams the user's events until the client goes away or, with `endsAt` (a link session's expiry,
   * ms), until then: the stream then says `event: end` with the reason and closes, and a client
   * must not reconnect with the same credential.
   */
  async stream(userId: string, req: Request, res: Response, options: { endsAt?: number } = {}): Promise<void> {
    if (this.subscriber.openCount(userId) >= MAX_STREAMS_PER_USER) {
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        ErrorCode.TooManyStreams,
        `At most ${MAX_STREAMS_PER_USER} event streams per user`,
      );
    }
    const stream: { closed: boolean; heartbeat?: NodeJS.Timeout; expiry?: NodeJS.Timeout; unsubscribe?: () => void } = {
      closed: false,
    };
    const close = (): void => {
      if (stream.closed) return;
      stream.closed = true;
      this.open.delete(close);
      clearInterval(stream.heartbeat);
      clearTimeout(stream.expiry);
      stream.unsubscribe?.();
      if (!res.writableEnded) res.end();
    };
    const write = (chunk: string): void => {
      if (stream.closed) return;
      res.write(chunk);
      if (res.writableLength > MAX_BUFFERED_BYTES) close();
    };
    req.on('close', close);
    this.open.add(close);

    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();

    const unsubscribe = await this.subscriber.subscribe(userId, (message) => {
      const id = messageId(message);
      write(`${id ? `id: ${id}\n` : ''}event: ${eventName(message)}\ndata: ${message}\n\n`);
    });
    if (stream.closed) {
      unsubscribe();
      return;
    }
    stream.unsubscribe = unsubscribe;
    stream.heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
    if (options.endsAt !== undefined) {
      stream.expiry = setTimeout(
        () => {
          write(`event: end\ndata: {"code":"link_expired"}\n\n`);
          close();
        },
        Math.max(0, options.endsAt - Date.now()),
      );
    }
    // Sent once the subscription is live: a client that waits for it misses nothing published later.
    write(`retry: ${RECONNECT_MS}\nevent: ready\ndata: {}\n\n`);
  }
}

/** The two fields the stream reads of a published event; the event itself is passed on as published. */
const publishedFields = z.object({ id: z.unknown(), type: z.unknown() });

function fieldsOf(message: string): { id?: unknown; type?: unknown } {
  try {
    const parsed = publishedFields.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function messageId(message: string): string | undefined {
  const { id } = fieldsOf(message);
  return typeof id === 'string' && /^[\w.-]{1,128}$/.test(id) ? id : undefined;
}

/** `reauth` for a Reconnect event, `new-mail` for everything else. */
function eventName(message: string): string {
  return fieldsOf(message).type === 'reauth' ? 'reauth' : 'new-mail';
}
