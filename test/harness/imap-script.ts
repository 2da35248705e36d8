import { randomBytes } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { ConnectionScript, ScriptContext } from './fault-proxy';
import { issueServerCert } from './test-ca';

/**
 * What a hostile server streams at the client:
 * - `endless-line`: one response line that never ends;
 * - `giant-literal`: a FETCH announcing a 1 GB literal, then its bytes;
 * - `literal-flood`: one response made of ever more 64 KB literals (each one small enough);
 * - `junk`: random bytes with line breaks.
 */
export type HostileKind = 'endless-line' | 'giant-literal' | 'literal-flood' | 'junk';

export interface ImapScriptOptions {
  /** Speak TLS (with a test-CA certificate valid for 127.0.0.1 and localhost). Default true. */
  tls?: boolean;
  /** The tagged answer to LOGIN: OK, or NO with this text (e.g. "[LIMIT] Too many logins"). */
  loginNo?: string;
  /** Sent as `* OK [ALERT] <text>` right after a successful LOGIN. */
  alert?: string;
  /**
   * What SELECT/EXAMINE/STATUS report for INBOX (UIDNEXT - 1 messages; FETCH returns none of
   * them). Read at every command, so a test can move UIDNEXT. Give the real mailbox's values when
   * the script stands in for a real server: a different UIDVALIDITY is a new mailbox to a client,
   * which then rightly skips what is in the old one. Default UIDVALIDITY 7, UIDNEXT 1.
   */
  mailbox?: { uidValidity: number; uidNext: number };
  /** Advertised capabilities. Default `IMAP4rev1 IDLE`; leave IDLE out for a server that must be polled. */
  capabilities?: string;
  /** Sees every command line the client sends (LOGIN lines included: tests only). */
  onCommand?: (line: string) => void;
  /** Stream hostile bytes instead of the greeting, or once the client enters IDLE. */
  hostile?: { kind: HostileKind; when: 'greeting' | 'idle' };
  /** Never write more than this many hostile bytes per connection. Default 256 MB. */
  maxHostileBytes?: number;
}

const DEFAULT_CAPABILITIES = 'IMAP4rev1 IDLE';
const CHUNK_BYTES = 64 * 1024;
const DEFAULT_MAX_HOSTILE_BYTES = 256 * 1024 * 1024;

/**
 * A scripted IMAP server, just enough of one for imapflow to log in, select INBOX and IDLE, that
 * then misbehaves as told. Use with `FaultProxy.impersonate()`.
 */
export function imapScript(options: ImapScriptOptions = {}): ConnectionScript {
  return (ctx: ScriptContext) => {
    const socket = options.tls === false ? ctx.socket : wrapTls(ctx);
    socket.on('error', () => undefined);
    const write = (text: string): void => {
      if (socket.destroyed) return;
      ctx.wrote(Buffer.byteLength(text));
      socket.write(text);
    };
    const hostile = (): void =>
      void flood(socket, options.hostile?.kind ?? 'junk', options.maxHostileBytes ?? DEFAULT_MAX_HOSTILE_BYTES, ctx);
    if (options.hostile?.when === 'greeting') {
      hostile();
      return;
    }
    const CAPABILITIES = options.capabilities ?? DEFAULT_CAPABILITIES;
    write(`* OK [CAPABILITY ${CAPABILITIES}] scripted server ready\r\n`);
    let buffer = '';
    let idleTag: string | undefined;
    const mailbox = options.mailbox ?? { uidValidity: 7, uidNext: 1 };
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      if (buffer.length > CHUNK_BYTES) socket.destroy();
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        options.onCommand?.(line);
        if (idleTag !== undefined) {
          if (line.toUpperCase() === 'DONE') write(`${idleTag} OK IDLE terminated\r\n`);
          idleTag = undefined;
          continue;
        }
        const [tag = '*', rawCommand = '', ...rest] = line.split(' ');
        const command = rawCommand.toUpperCase();
        const sub = (rest[0] ?? '').toUpperCase();
        switch (command === 'UID' ? `UID ${sub}` : command) {
          case 'LIST':
          case 'LSUB':
            write(
              rest[1] === '""'
                ? `* ${command} (\\Noselect) "/" ""\r\n`
                : `* ${command} (\\HasNoChildren) "/" INBOX\r\n`,
            );
            write(`${tag} OK done\r\n`);
            break;
          case 'CAPABILITY':
            write(`* CAPABILITY ${CAPABILITIES}\r\n${tag} OK done\r\n`);
            break;
          case 'LOGIN':
            if (options.loginNo) {
              write(`${tag} NO ${options.loginNo}\r\n`);
              break;
            }
            if (options.alert) write(`* OK [ALERT] ${options.alert}\r\n`);
            write(`${tag} OK [CAPABILITY ${CAPABILITIES}] logged in\r\n`);
            break;
          case 'SELECT':
          case 'EXAMINE':
            write(
              `* FLAGS (\\Seen \\Answered)\r\n* ${mailbox.uidNext - 1} EXISTS\r\n* OK [UIDVALIDITY ${mailbox.uidValidity}] ok\r\n* OK [UIDNEXT ${mailbox.uidNext}] ok\r\n`,
            );
            write(`${tag} OK [READ-ONLY] done\r\n`);
            break;
          case 'STATUS':
            write(
              `* STATUS INBOX (MESSAGES ${mailbox.uidNext - 1} UIDNEXT ${mailbox.uidNext} UIDVALIDITY ${mailbox.uidValidity})\r\n${tag} OK done\r\n`,
            );
            break;
          case 'IDLE':
            write('+ idling\r\n');
            if (options.hostile?.when === 'idle') hostile();
            else idleTag = tag;
            break;
          case 'NOOP':
          case 'UID FETCH':
          case 'CLOSE':
          case 'UNSELECT':
            write(`${tag} OK done\r\n`);
            break;
          case 'LOGOUT':
            write(`* BYE bye\r\n${tag} OK done\r\n`);
            socket.end();
            break;
          default:
            write(`${tag} BAD unsupported\r\n`);
        }
      }
    });
  };
}

function wrapTls(ctx: ScriptContext): TLSSocket {
  const cert = issueServerCert(['localhost', '127.0.0.1']);
  return new TLSSocket(ctx.socket, { isServer: true, cert: cert.cert, key: cert.key });
}

/** Writes hostile bytes with backpressure until the client hangs up or the cap is reached. */
async function flood(
  socket: TLSSocket | ScriptContext['socket'],
  kind: HostileKind,
  maxBytes: number,
  ctx: ScriptContext,
): Promise<void> {
  const prefix: Record<HostileKind, string> = {
    'endless-line': '* OK ',
    'giant-literal': '* 1 FETCH (UID 1 BODY[] {1073741824}\r\n',
    'literal-flood': '* 1 FETCH (UID 1 ',
    junk: '',
  };
  let sent = 0;
  let part = 0;
  const next = (): Buffer => {
    switch (kind) {
      case 'junk':
        return Buffer.concat([randomBytes(CHUNK_BYTES - 2), Buffer.from('\r\n')]);
      case 'literal-flood': {
        part += 1;
        return Buffer.concat([
          Buffer.from(`BODY[${part}] {${CHUNK_BYTES}}\r\n`),
          Buffer.alloc(CHUNK_BYTES, 0x61),
          Buffer.from(' '),
        ]);
      }
      default:
        return Buffer.alloc(CHUNK_BYTES, 0x61);
    }
  };
  const first = Buffer.from(prefix[kind]);
  socket.write(first);
  ctx.wrote(first.length);
  while (sent < maxBytes && !socket.destroyed && socket.writable) {
    const chunk = next();
    sent += chunk.length;
    ctx.wrote(chunk.length);
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
  }
}
