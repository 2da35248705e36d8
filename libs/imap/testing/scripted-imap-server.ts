import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * A scripted IMAP server on a loopback port, for the session and watcher unit specs: imapflow
 * stays real, the server answers from a small in-memory INBOX, and a spec overrides any answer
 * (refuse IDLE, never answer a NOOP, say BYE, drop the connection). Plain TCP only.
 */
export interface ScriptedMessage {
  uid: number;
  seen?: boolean;
  subject?: string;
}

export interface ScriptedCommand {
  tag: string;
  /** Upper case; `UID FETCH` for UID commands. */
  name: string;
  args: string;
}

export interface ScriptedConnection {
  /** Writes a line (CRLF added). */
  send(line: string): void;
  /** Drops the connection (FIN). */
  close(): void;
}

/** Lines to write (`$tag` stands for the command's tag), never to answer, or the default answer. */
export type ScriptedReply = string[] | 'silence' | undefined;

export interface ScriptedServerOptions {
  /** Default `IMAP4rev1 IDLE`. */
  capabilities?: string;
  uidValidity?: number;
  messages?: ScriptedMessage[];
  answer?(command: ScriptedCommand, connection: ScriptedConnection): ScriptedReply;
}

const DEFAULT_CAPABILITIES = 'IMAP4rev1 IDLE';

export class ScriptedImapServer {
  readonly host = '127.0.0.1';
  /** Every command line's name, in order, across connections (`DONE` ends an IDLE). */
  readonly commands: string[] = [];
  readonly messages: ScriptedMessage[];
  private readonly sockets = new Set<Socket>();
  private readonly idling = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: ScriptedServerOptions,
  ) {
    this.messages = [...(options.messages ?? [])];
    server.on('connection', (socket) => this.serve(socket));
  }

  static async start(options: ScriptedServerOptions = {}): Promise<ScriptedImapServer> {
    const server = createServer();
    const scripted = new ScriptedImapServer(server, options);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return scripted;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  get uidNext(): number {
    return Math.max(0, ...this.messages.map((m) => m.uid)) + 1;
  }

  /** A new message: `* n EXISTS` to every connection in IDLE. */
  deliver(message: ScriptedMessage): void {
    this.messages.push(message);
    for (const socket of this.idling) socket.write(`* ${this.messages.length} EXISTS\r\n`);
  }

  count(name: string): number {
    return this.commands.filter((c) => c === name).length;
  }

  /** Closes every connection (FIN) with no BYE, as a server process that goes away does. */
  hangUp(): void {
    for (const socket of this.sockets) socket.end();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    // Each answer is one write, and none waits for an ACK (Nagle + delayed ACK cost 40 ms a command).
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.idling.delete(socket);
    });
    const write = (text: string): void => {
      if (!socket.destroyed) socket.write(text);
    };
    const connection: ScriptedConnection = { send: (line) => write(`${line}\r\n`), close: () => socket.end() };
    const capabilities = this.options.capabilities ?? DEFAULT_CAPABILITIES;
    write(`* OK [CAPABILITY ${capabilities}] scripted\r\n`);
    let buffer = '';
    let idleTag: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (idleTag !== undefined && line.toUpperCase() === 'DONE') {
          this.commands.push('DONE');
          this.idling.delete(socket);
          write(`${idleTag} OK IDLE done\r\n`);
          idleTag = undefined;
          continue;
        }
        const command = parse(line);
        this.commands.push(command.name);
        const scripted = this.options.answer?.(command, connection);
        if (scripted === 'silence') continue;
        if (scripted) {
          write(scripted.map((out) => `${out.replaceAll('$tag', command.tag)}\r\n`).join(''));
          continue;
        }
        if (command.name === 'IDLE') {
          idleTag = command.tag;
          this.idling.add(socket);
          write('+ idling\r\n');
          continue;
        }
        write(
          this.defaultAnswer(command, capabilities)
            .map((out) => `${out}\r\n`)
            .join(''),
        );
        if (command.name === 'LOGOUT') socket.end();
      }
    });
  }

  private defaultAnswer(command: ScriptedCommand, capabilities: string): string[] {
    const ok = `${command.tag} OK done`;
    const uidValidity = this.options.uidValidity ?? 7;
    switch (command.name) {
      case 'CAPABILITY':
        return [`* CAPABILITY ${capabilities}`, ok];
      case 'LOGIN':
        return [`${command.tag} OK [CAPABILITY ${capabilities}] logged in`];
      case 'LIST':
      case 'LSUB':
        return [`* ${command.name} (\\HasNoChildren) "/" INBOX`, ok];
      case 'SELECT':
      case 'EXAMINE':
        return [
          '* FLAGS (\\Seen)',
          `* ${this.messages.length} EXISTS`,
          `* OK [UIDVALIDITY ${uidValidity}] ok`,
          `* OK [UIDNEXT ${this.uidNext}] ok`,
          `${command.tag} OK [READ-ONLY] done`,
        ];
      case 'STATUS': {
        const unseen = this.messages.filter((m) => !m.seen).length;
        const items = command.args.toUpperCase().includes('UNSEEN')
          ? `UNSEEN ${unseen}`
          : `MESSAGES ${this.messages.length} UIDNEXT ${this.uidNext} UIDVALIDITY ${uidValidity}`;
        return [`* STATUS INBOX (${items})`, ok];
      }
      case 'FETCH':
      case 'UID FETCH':
        return [...this.fetch(command), ok];
      case 'LOGOUT':
        return ['* BYE bye', ok];
      case 'NOOP':
      case 'CLOSE':
      case 'UNSELECT':
        return [ok];
      default:
        return [`${command.tag} BAD unsupported`];
    }
  }

  /** `UID FETCH <uids> (...)` or `FETCH <seqs> (...)`: UID, FLAGS and a minimal ENVELOPE. */
  private fetch(command: ScriptedCommand): string[] {
    const byUid = command.name === 'UID FETCH';
    const [set = ''] = command.args.split(' ');
    const highest = byUid ? this.uidNext - 1 : this.messages.length;
    const wanted = (n: number): boolean =>
      set.split(',').some((part) => {
        const [from = '', to = from] = part.split(':');
        const a = from === '*' ? highest : Number(from);
        const b = to === '*' ? highest : Number(to);
        return n >= Math.min(a, b) && n <= Math.max(a, b);
      });
    return this.messages.flatMap((m, i) => {
      if (!wanted(byUid ? m.uid : i + 1)) return [];
      const envelope = `(NIL "${m.subject ?? ''}" (("Ann" NIL "ann" "example.test")) NIL NIL NIL NIL NIL NIL NIL)`;
      return [`* ${i + 1} FETCH (UID ${m.uid} FLAGS (${m.seen ? '\\Seen' : ''}) ENVELOPE ${envelope})`];
    });
  }
}

function parse(line: string): ScriptedCommand {
  const [tag = '*', rawName = '', ...rest] = line.split(' ');
  const name = rawName.toUpperCase();
  if (name === 'UID') {
    const [sub = '', ...args] = rest;
    return { tag, name: `UID ${sub.toUpperCase()}`, args: args.join(' ') };
  }
  return { tag, name, args: rest.join(' ') };
}
