import { createServer, type Server } from 'node:http';
import { renderMetrics } from './cluster-metrics';
import { metricsRegistry } from './metrics';

/** What an ops port serves (probes in deploy/k8s point here; a spec checks they do). */
export const OPS_PATHS = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

/**
 * Every role's ops port: `/healthz`, `/readyz` and `/metrics` for Kubernetes probes and Prometheus,
 * apart from the API's public port so that metrics are never served to the internet. Port 0
 * disables it.
 */
export async function startOpsServer(
  port: number,
  host: string,
  ready: () => Promise<boolean>,
): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === OPS_PATHS.health) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (req.url === OPS_PATHS.ready) {
        const ok = await ready().catch(() => false);
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(ok ? '{"status":"ready"}' : '{"status":"not_ready"}');
      } else if (req.url === OPS_PATHS.metrics) {
        res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(await renderMetrics(metricsRegistry));
      } else {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error":{"code":"not_found","message":"Not found"}}');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return server;
}
