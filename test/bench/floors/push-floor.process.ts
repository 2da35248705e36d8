/**
 * The floor of the push row, a child process of the benchmark: sends already-built push requests
 * (the very requests the dispatcher sent, recorded by the fake) with a fixed number in flight,
 * and nothing else — no queue, no lookup, no payload building. See {@link FloorKind}.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { connect, type ClientHttp2Session } from 'node:http2';
import type { FloorCommand, FloorKind, FloorReport, ReplayRequest } from './push-floor.protocol';

const DROPPED_HEADERS = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive']);

type Sender = (r: ReplayRequest) => Promise<number>;

function headersOf(r: ReplayRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (!k.startsWith(':') && !DROPPED_HEADERS.has(k)) out[k] = v;
  return out;
}

function apnsSender(url: string): { send: Sender; close(): void } {
  const session: ClientHttp2Session = connect(url);
  session.on('error', () => undefined);
  const send: Sender = (r) =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': r.path, ...headersOf(r) });
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', () => undefined);
      stream.on('end', () => resolve(status));
      stream.on('error', reject);
      stream.end(r.body);
    });
  return { send, close: () => session.close() };
}

function fcmSender(url: string, concurrency: number): { send: Sender; close(): void } {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const send: Sender = (r) =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(r.body, 'utf8');
      const req = httpsRequest(
        {
          host: hostname,
          port: Number(port),
          method: 'POST',
          path: r.path,
          agent,
          headers: { ...headersOf(r), 'content-length': String(body.length) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

let prepared: { sender: { send: Sender; close(): void }; requests: ReplayRequest[]; concurrency: number } | undefined;

function report(r: FloorReport): void {
  process.send?.(r);
}

async function prepare(
  kind: FloorKind,
  url: string,
  concurrency: number,
  warmup: ReplayRequest,
  requests: ReplayRequest[],
) {
  const sender = kind === 'apns' ? apnsSender(url) : fcmSender(url, concurrency);
  const status = await sender.send(warmup);
  if (status !== 200) throw new Error(`warm-up request answered ${status}`);
  prepared = { sender, requests, concurrency };
  report({ type: 'ready' });
}

async function go(): Promise<void> {
  if (!prepared) throw new Error('go before prepare');
  const { sender, requests, concurrency } = prepared;
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        try {
          const status = await sender.send(r);
          if (status !== 200) {
            failed++;
            firstError ??= `status ${status}`;
          }
        } catch (err) {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  report({
    type: 'done',
    ms: Date.now() - started,
    failed,
    ...(firstError !== undefined ? { firstError } : {}),
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
  sender.close();
}

process.on('message', (cmd: FloorCommand) => {
  const fail = (err: unknown) => {
    process.stderr.write(`push floor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  if (cmd.type === 'prepare') prepare(cmd.kind, cmd.url, cmd.concurrency, cmd.warmup, cmd.requests).catch(fail);
  else go().catch(fail);
});
process.on('disconnect', () => process.exit(0));
