import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '@mailpush/config';

/** One year, as browsers' HSTS preload lists expect. */
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Headers every response gets, before any route or error handler runs (so 404s and errors have
 * them too): `no-store` on the API, whose answers carry API keys, link URLs and mailbox status;
 * HSTS when the relay is reached over HTTPS (PUBLIC_URL https, or X-Forwarded-Proto https from a
 * proxy the operator trusts via MAILPUSH_TRUST_PROXY, which is what `req.secure` reads).
 */
export function httpHygiene(config: Pick<AppConfig, 'http'>) {
  const httpsPublic = config.http.publicUrl?.startsWith('https://') ?? false;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path === '/v1' || req.path.startsWith('/v1/')) res.setHeader('cache-control', 'no-store');
    if (httpsPublic || req.secure) res.setHeader('strict-transport-security', HSTS);
    next();
  };
}
