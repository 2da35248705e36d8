/** A new-mail event as the live stream carries it (see libs/delivery/user-events.ts). */
export interface MailEventView {
  id: string;
  accountId: string;
  from?: { name?: string; address?: string };
  subject?: string;
  detectedAt?: number;
  summary?: { count: number };
}

/** "Reconnect <email>": a mailbox's sign-in stopped working (the same event a phone gets as a push). */
export interface ReauthEventView {
  id: string;
  accountId: string;
  email: string;
  url?: string;
}

export interface StreamHandlers {
  state(state: 'connecting' | 'live' | 'retrying' | 'ended', detail?: string): void;
  mail(event: MailEventView): void;
  reauth(event: ReauthEventView): void;
}

const RETRY_MS = 3000;
const MAX_RETRY_MS = 60_000;
/** Ids already shown: a retried fan-out publishes an event again. */
const MAX_SEEN = 500;

/**
 * The user's Server-Sent Events read with `fetch` and a streaming reader, not `EventSource`: the
 * credential travels in the Authorization header, never in a URL (where logs and history keep it).
 */
export class EventStreamClient {
  private readonly seen = new Set<string>();
  private controller: AbortController | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly headers: () => Record<string, string>,
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private async run(): Promise<void> {
    let delay = RETRY_MS;
    while (!this.stopped) {
      this.on.state('connecting');
      const outcome = await this.readOnce().catch(() => 'dropped' as const);
      if (outcome === 'ended' || this.stopped) return;
      if (outcome === 'live') delay = RETRY_MS;
      this.on.state('retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }

  /** One connection: 'ended' when the server says we are done (or refuses us), else how far it got. */
  private async readOnce(): Promise<'ended' | 'live' | 'dropped'> {
    this.controller = new AbortController();
    const res = await fetch(this.url, {
      headers: { ...this.headers(), accept: 'text/event-stream' },
      signal: this.controller.signal,
      cache: 'no-store',
    });
    if (res.status === 401 || res.status === 403) {
      this.on.state('ended', 'link_expired');
      return 'ended';
    }
    if (!res.ok || !res.body) return 'dropped';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let live = false;
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return live ? 'live' : 'dropped';
      buffer += chunk.value.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame.event === 'ready') {
          live = true;
          this.on.state('live');
        } else if (frame.event === 'end') {
          this.on.state('ended', codeOf(frame.data));
          return 'ended';
        } else if (frame.event === 'new-mail' || frame.event === 'reauth') {
          this.deliver(frame.event, frame.data);
        }
      }
    }
  }

  private deliver(type: 'new-mail' | 'reauth', data: string): void {
    let event: MailEventView & ReauthEventView;
    try {
      event = JSON.parse(data) as MailEventView & ReauthEventView;
    } catch {
      return;
    }
    if (typeof event.id !== 'string' || this.seen.has(event.id)) return;
    this.seen.add(event.id);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.values().next().value ?? '');
    if (type === 'reauth') this.on.reauth(event);
    else this.on.mail(event);
  }
}

function parseFrame(frame: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}

function codeOf(data: string): string | undefined {
  try {
    const code = (JSON.parse(data) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
