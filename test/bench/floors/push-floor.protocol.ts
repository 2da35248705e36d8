/** One recorded push request, replayed byte for byte by the floor (headers lower-case, no pseudo-headers). */
export interface ReplayRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * - `apns`: one node:http2 session to the APNs fake, every request a stream, `concurrency` in flight.
 * - `fcm`: node:https (HTTP/1.1 keep-alive, `concurrency` sockets), one POST per message, as
 *   firebase-admin's `send()` does.
 */
export type FloorKind = 'apns' | 'fcm';

export type FloorCommand =
  | {
      type: 'prepare';
      kind: FloorKind;
      url: string;
      concurrency: number;
      warmup: ReplayRequest;
      requests: ReplayRequest[];
    }
  | { type: 'go' };

export type FloorReport =
  { type: 'ready' } | { type: 'done'; ms: number; failed: number; firstError?: string; cpuMs: number };
