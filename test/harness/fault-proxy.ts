import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy for fault injection, loopback only, sitting in front of a real server (Dovecot).
 * TLS passes through untouched (the server's certificate is valid for 127.0.0.1). Faults:
 * reset, cut (FIN), black hole (stop forwarding without closing, the way a dead NAT mapping or a
 * hung middlebox looks from the client), delay, refuse new connections, or answer new
 * connections with a script of its own (a hostile or throttling server, see imap-script.ts).
 * Bounded: a connection cap, and at most MAX_QUEUED_BYTES held per direction while delaying.
 */
export interface ProxiedConnection {
  readonly id: number;
  readonly openedAt: number;
  /** When the client's side of the connection closed (FIN or reset), while the proxy did not close it. */
  clientClosedAt?: number;
  closedAt?: number;
  closedBy?: 'client' | 'server' | 'proxy';
  mode: 'forwarding' | 'blackholed' | 'scripted';
  bytesToClient: number;
  bytesFromClient: number;
}

export interface ScriptContext {
  socket: Socket;
  /** Counts bytes the script wrote towards the client (for "bounded memory" assertions). */
  wrote(bytes: number): void;
}

/** Takes over a fresh client connection instead of forwarding it. */
export type ConnectionScript = (ctx: ScriptContext) => void;

export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Snapshots of every connection accepted so far, oldest first. */
  connections(): ProxiedConnection[];
  open(): ProxiedConnection[];
  /** Resets (RST) both sides of every open connection. */
  reset(): void;
  /** Closes (FIN) both sides of every open connection. */
  cut(): void;
  /** Stops forwarding, both ways, on every open connection, without closing anything. */
  blackhole(): void;
  /** Holds every chunk forwarded from now on for `ms` (0: off). */
  delay(ms: number): void;
  /** While on, new connections are reset as soon as they are accepted. */
  refuse(on: boolean): void;
  /** New connections are answered by `script` instead of the server (undefined: forward again). */
  impersonate(script: ConnectionScript | undefined): void;
  /** Points new connections at another port on 127.0.0.1. */
  retarget(port: number): void;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MAX_CONNECTIONS = 512;
const MAX_QUEUED_BYTES = 1024 * 1024;
/** A cut connection whose peer does not finish closing is destroyed after this. */
const CUT_LINGER_MS = 2_000;

class Link {
  readonly info: ProxiedConnection;
  upstream: Socket | undefined;
  private queued = { up: 0, down: 0 };

  constructor(
    id: number,
    readonly client: Socket,
    private readonly proxy: { delayMs: number },
  ) {
    this.info = { id, openedAt: Date.now(), mode: 'forwarding', bytesToClient: 0, bytesFromClient: 0 };
    client.on('error', () => undefined);
    client.once('close', () => {
      if (this.info.closedBy === undefined) {
        this.info.closedBy = 'client';
        this.info.clientClosedAt = Date.now();
      }
      this.info.closedAt ??= Date.now();
      this.upstream?.destroy();
    });
  }

  forwardTo(port: number): void {
    const upstream = connect({ host: HOST, port });
    this.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.once('close', () => {
      if (this.info.mode === 'blackholed') return;
      this.info.closedBy ??= 'server';
      this.client.end();
    });
    upstream.on('data', (chunk: Buffer) => {
      this.info.bytesToClient += chunk.length;
      this.pass(chunk, upstream, this.client, 'down');
    });
    this.client.on('data', (chunk: Buffer) => {
      this.info.bytesFromClient += chunk.length;
      this.pass(chunk, this.client, upstream, 'up');
    });
  }

  script(run: ConnectionScript): void {
    this.info.mode = 'scripted';
    run({ socket: this.client, wrote: (n) => (this.info.bytesToClient += n) });
  }

  reset(): void {
    this.markProxyClosed();
    this.client.resetAndDestroy();
    this.upstream?.resetAndDestroy();
  }

  cut(): void {
    this.markProxyClosed();
    this.client.end();
    this.upstream?.end();
    setTimeout(() => {
      this.client.destroy();
      this.upstream?.destroy();
    }, CUT_LINGER_MS).unref();
  }

  /**
   * The client's bytes are still read (and dropped), so the proxy sees when the client gives up on
   * the connection; nothing reaches it from the server any more, and nothing at the TCP level
   * fails: only an application-level probe can tell.
   */
  blackhole(): void {
    if (this.info.mode !== 'forwarding') return;
    this.info.mode = 'blackholed';
    this.upstream?.pause();
    this.client.resume();
  }

  destroy(): void {
    this.markProxyClosed();
    this.client.destroy();
    this.upstream?.destroy();
  }

  get closed(): boolean {
    return this.info.closedAt !== undefined;
  }

  private markProxyClosed(): void {
    this.info.closedBy ??= 'proxy';
    this.info.closedAt ??= Date.now();
  }

  private pass(chunk: Buffer, from: Socket, to: Socket, direction: 'up' | 'down'): void {
    if (this.info.mode !== 'forwarding') return;
    const delayMs = this.proxy.delayMs;
    if (delayMs <= 0 && this.queued[direction] === 0) {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => this.resume(from));
      }
      return;
    }
    this.queued[direction] += chunk.length;
    if (this.queued[direction] > MAX_QUEUED_BYTES) from.pause();
    setTimeout(
      () => {
        this.queued[direction] -= chunk.length;
        if (this.info.mode !== 'forwarding' || to.destroyed) return;
        to.write(chunk);
        if (this.queued[direction] <= MAX_QUEUED_BYTES) this.resume(from);
      },
      Math.max(0, delayMs),
    ).unref();
  }

  private resume(socket: Socket): void {
    if (this.info.mode === 'forwarding' && !socket.destroyed) socket.resume();
  }
}

export async function startFaultProxy(options: { targetPort: number }): Promise<FaultProxy> {
  const state = { delayMs: 0 };
  let targetPort = options.targetPort;
  let refusing = false;
  let script: ConnectionScript | undefined;
  let nextId = 1;
  const links: Link[] = [];

  const server: Server = createServer({ pauseOnConnect: false }, (client) => {
    const link = new Link(nextId++, client, state);
    links.push(link);
    const open = links.filter((l) => !l.closed).length;
    if (refusing || open > MAX_CONNECTIONS) {
      link.reset();
      return;
    }
    if (script) link.script(script);
    else link.forwardTo(targetPort);
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no listening address');
  const openLinks = () => links.filter((l) => !l.closed);

  return {
    host: HOST,
    port: address.port,
    connections: () => links.map((l) => ({ ...l.info })),
    open: () => openLinks().map((l) => ({ ...l.info })),
    reset: () => openLinks().forEach((l) => l.reset()),
    cut: () => openLinks().forEach((l) => l.cut()),
    blackhole: () => openLinks().forEach((l) => l.blackhole()),
    delay: (ms) => {
      state.delayMs = ms;
    },
    refuse: (on) => {
      refusing = on;
    },
    impersonate: (s) => {
      script = s;
    },
    retarget: (port) => {
      targetPort = port;
    },
    close: async () => {
      for (const l of links) l.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
