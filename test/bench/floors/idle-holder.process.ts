/**
 * A child process of the benchmark (forked with an IPC channel) that holds many IMAP connections
 * in IDLE without mailpush: the floors of the density row and the observer of the latency row.
 * See {@link HolderMode} for exactly what each mode does.
 */
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { writeHeapSnapshot } from 'node:v8';
import { ImapFlow } from 'imapflow';
import { RESPONSE_LIMITS } from '@mailpush/imap/imap-client.factory';
import type { HolderCommand, HolderLogin, HolderMode, HolderReport } from './idle-holder.protocol';

/** The worker's defaults for the settings that shape a connection's timers and buffers. */
const CONNECT_TIMEOUT_MS = 15_000;
const SOCKET_TIMEOUT_MS = 150_000;
const PROGRESS_EVERY = 500;

interface Held {
  close(): void;
}

const held: Held[] = [];
/** Set by `npm run bench -- --profile`: every measurement also writes a heap snapshot there. */
const snapshotDir = process.env.MAILPUSH_BENCH_SNAPSHOT_DIR;
let measurements = 0;
let mode: HolderMode | undefined;

function send(report: HolderReport): void {
  process.send?.(report);
}

async function openImapflow(host: string, port: number, login: HolderLogin): Promise<Held> {
  const client = new ImapFlow({
    host,
    port,
    secure: true,
    auth: { user: login.user, pass: login.password },
    logger: false,
    emitLogs: false,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    disableAutoIdle: true,
    autoIdleDelay: 0,
    ...RESPONSE_LIMITS,
  });
  client.on('error', () => undefined);
  await client.connect();
  await client.mailboxOpen('INBOX', { readOnly: true });
  // Resolves only when IDLE ends; the connection stays in IDLE until then.
  void client.idle().catch(() => undefined);
  return { close: () => client.close() };
}

/** Types LOGIN, EXAMINE INBOX and IDLE by hand; resolves once the server says `+ idling`. */
function openRaw(
  host: string,
  port: number,
  login: HolderLogin,
  onExists?: (count: number, at: number) => void,
): Promise<Held & { exists: number }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host, port });
    let text = '';
    let step: 'greeting' | 'login' | 'examine' | 'idle' | 'idling' = 'greeting';
    let exists = 0;
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => fail(new Error(`${step} timed out`)));
    socket.on('error', (err) => (step === 'idling' ? undefined : fail(err)));
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      let end: number;
      while ((end = text.indexOf('\r\n')) >= 0) {
        const line = text.slice(0, end);
        text = text.slice(end + 2);
        const count = /^\* (\d+) EXISTS$/.exec(line);
        if (count) {
          exists = Number(count[1]);
          if (step === 'idling') onExists?.(exists, Date.now());
          continue;
        }
        if (step === 'greeting' && line.startsWith('* OK')) {
          step = 'login';
          socket.write(`a LOGIN "${login.user}" "${login.password}"\r\n`);
        } else if (step === 'login' && line.startsWith('a ')) {
          if (!line.startsWith('a OK')) return fail(new Error(`LOGIN refused: ${line.slice(0, 80)}`));
          step = 'examine';
          socket.write('b EXAMINE INBOX\r\n');
        } else if (step === 'examine' && line.startsWith('b ')) {
          if (!line.startsWith('b OK')) return fail(new Error(`EXAMINE refused: ${line.slice(0, 80)}`));
          step = 'idle';
          socket.write('c IDLE\r\n');
        } else if (step === 'idle' && line.startsWith('+')) {
          step = 'idling';
          socket.setTimeout(0);
          if (!onExists) {
            // The floor keeps nothing but the socket: from here on bytes are dropped unread.
            socket.removeListener('data', onData);
            socket.on('data', () => undefined);
            text = '';
          }
          resolve({ exists, close: () => socket.destroy() });
        }
      }
    };
    socket.on('data', onData);
  });
}

async function openAll(cmd: Extract<HolderCommand, { type: 'open' }>): Promise<void> {
  const startedAt = Date.now();
  const exists: Record<string, number> = {};
  let next = 0;
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  const open = async (login: HolderLogin, mode: HolderMode): Promise<void> => {
    if (mode === 'imapflow') {
      held.push(await openImapflow(cmd.host, cmd.port, login));
      return;
    }
    const onExists =
      mode === 'observe'
        ? (count: number, at: number) => send({ type: 'exists', user: login.user, count, at })
        : undefined;
    const h = await openRaw(cmd.host, cmd.port, login, onExists);
    exists[login.user] = h.exists;
    held.push(h);
  };
  await Promise.all(
    Array.from({ length: Math.max(1, cmd.concurrency) }, async () => {
      while (next < cmd.logins.length) {
        const login = cmd.logins[next++]!;
        try {
          await open(login, cmd.mode);
          opened++;
          if (opened % PROGRESS_EVERY === 0) send({ type: 'progress', opened, total: cmd.logins.length });
        } catch (err) {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  send({
    type: 'opened',
    opened,
    failed,
    ...(firstError !== undefined ? { firstError } : {}),
    ms: Date.now() - startedAt,
    exists,
  });
}

function measure(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  const m = process.memoryUsage();
  measurements++;
  if (snapshotDir)
    writeHeapSnapshot(join(snapshotDir, `${mode ?? 'holder'}-${process.pid}-${measurements}.heapsnapshot`));
  send({
    type: 'memory',
    sample: {
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    },
  });
}

process.on('message', (cmd: HolderCommand) => {
  switch (cmd.type) {
    case 'open':
      mode = cmd.mode;
      void openAll(cmd);
      break;
    case 'measure':
      measure();
      break;
    case 'close':
      for (const h of held.splice(0)) h.close();
      send({ type: 'closed' });
      process.disconnect();
      break;
  }
});
process.on('disconnect', () => process.exit(0));
