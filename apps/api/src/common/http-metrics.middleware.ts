import type { NextFunction, Request, Response } from 'express';
import { metrics } from '@mailpush/metrics';

/**
 * Counts every API request by the route pattern that served it (`/v1/accounts/:id`), never the
 * raw URL (ids and tokens would make a series per request). Requests no route matched are
 * `unmatched`. Registered before Nest's router so guards' and filters' answers are counted too.
 */
export function httpMetrics(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => observe(req, res, started));
  res.once('close', () => {
    if (!res.writableFinished) observe(req, res, started);
  });
  next();
}

function observe(req: Request, res: Response, started: bigint): void {
  const route = routeOf(req);
  const method = /^[A-Z]{3,7}$/.test(req.method) ? req.method : 'OTHER';
  metrics.httpRequests.inc({ method, route, status: String(res.statusCode) });
  metrics.httpDuration.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
}

function routeOf(req: Request): string {
  const route: unknown = (req as Request & { route?: { path?: unknown } }).route?.path;
  if (typeof route !== 'string') return 'unmatched';
  return `${req.baseUrl}${route}` || '/';
}
