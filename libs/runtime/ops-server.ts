import { createServer, type Server } from 'node:http';
import { metricsRegistry, renderMetrics } from '@mailpush/metrics';
import { type HealthCheck, NOT_READY_BODY, OPS_PATHS, READY_BODY } from './health';

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * Every role's ops port: `/healthz`, `/readyz` and `/metrics` for Kubernetes probes and Prometheus,
 * apart from the API's public port so that metrics are never served to the internet. Port 0
 * disables it.
 */
export async function startOpsServer(port: number, host: string, health: HealthCheck): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === OPS_PATHS.health) {
        res.writeHead(200, JSON_TYPE).end(JSON.stringify(health.live()));
      } else if (req.url === OPS_PATHS.ready) {
        const ok = await health.ready();
        res.writeHead(ok ? 200 : 503, JSON_TYPE).end(JSON.stringify(ok ? READY_BODY : NOT_READY_BODY));
      } else if (req.url === OPS_PATHS.metrics) {
        res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(await renderMetrics(metricsRegistry));
      } else {
        res.writeHead(404, JSON_TYPE).end('{"error":{"code":"not_found","message":"Not found"}}');
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
