import { connect, createServer } from 'node:net';
import { eventually } from './eventually';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. Another process can still take it before
 * the caller binds it, so the servers started by this harness retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listen address ${String(address)}`));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/** `count` distinct free ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` right now. */
export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once nothing listens on `port` any more (a killed server's last process may take a moment to die). */
export async function waitForPortClosed(port: number, timeoutMs = 5_000): Promise<void> {
  await eventually(
    async () => {
      if (await isPortOpen(port)) throw new Error(`port ${port} still accepts connections`);
    },
    { timeoutMs, intervalMs: 10 },
  );
}
