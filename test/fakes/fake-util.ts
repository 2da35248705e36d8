import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http2';

/** Lower-case names, one string per header (repeated values joined like HTTP does). */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}

/** Resolves with a copy of `list` once it holds n items (the emitter says 'request' per item). */
export function waitForCount<T>(events: EventEmitter, list: T[], n: number, timeoutMs: number): Promise<T[]> {
  if (list.length >= n) return Promise.resolve(list.slice());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      events.off('request', check);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} requests (have ${list.length})`));
    }, timeoutMs);
    function check(): void {
      if (list.length < n) return;
      clearTimeout(timer);
      events.off('request', check);
      resolve(list.slice());
    }
    events.on('request', check);
  });
}

/** Listens on a free 127.0.0.1 port (fakes never listen beyond loopback) and returns the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
