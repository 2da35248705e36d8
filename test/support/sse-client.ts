export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseStream {
  status: number;
  /** The next frame of this event type (frames of other types are kept for later calls). */
  next(event: string): Promise<SseEvent>;
  /** Resolves once the server has closed the stream. */
  ended(): Promise<void>;
  close(): void;
}

/** A minimal EventSource: reads `text/event-stream` frames off a fetch body. */
export async function openStream(url: string, token: string): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: SseEvent[] = [];
  /** Reads one chunk into `frames`; false once the stream is over. */
  async function pump(): Promise<boolean> {
    const chunk = await reader!.read();
    if (chunk.done) return false;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const parsed: SseEvent = { event: 'message', data: '' };
      for (const line of frame.split('\n')) {
        if (line.startsWith('event: ')) parsed.event = line.slice(7);
        else if (line.startsWith('id: ')) parsed.id = line.slice(4);
        else if (line.startsWith('data: ')) parsed.data += line.slice(6);
      }
      if (!frame.startsWith(':')) frames.push(parsed);
    }
    return true;
  }
  return {
    status: res.status,
    async next(event) {
      for (;;) {
        const index = frames.findIndex((f) => f.event === event);
        if (index >= 0) return frames.splice(index, 1)[0]!;
        if (!(await pump())) throw new Error('stream ended');
      }
    },
    async ended() {
      while (await pump());
    },
    close: () => controller.abort(),
  };
}
