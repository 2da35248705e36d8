import { Controller, Get, HttpStatus, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { createLogger } from '@mailpush/logging';
import { ApiError } from '../common/api-error';
import { STATIC_DIR, loadStaticAssets, type StaticAsset } from './static-assets';

const log = createLogger('web');

/** Scripts only from this origin, nothing framed: the page handles passwords. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The linking web form: static files built by scripts/build-web.mjs, talking to the public REST API. */
@Controller()
export class LinkPageController {
  private readonly assets = loadStaticAssets();

  constructor() {
    if (!this.assets.has('index.html')) {
      log.warn('web form not built: the page answers 404 until scripts/build-web.mjs has run', { dir: STATIC_DIR });
    }
  }

  @Get()
  page(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  /** The same form opened from an app's one-time link (`/link#mpl_…`). */
  @Get('link')
  linkPage(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  /** At the root, so that its scope is the whole site (the page registers it for Web Push). */
  @Get('service-worker.js')
  serviceWorker(@Res() res: Response): void {
    this.send(res, 'service-worker.js');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, `assets/${file}`);
  }

  private send(res: Response, name: string): void {
    const asset: StaticAsset | undefined = this.assets.get(name);
    if (!asset) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'No such page');
    res
      .status(200)
      .set({
        'content-type': asset.contentType,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        // No content hashes in the names: a browser asks again each time (a 304 when unchanged).
        'cache-control': 'no-cache',
      })
      .send(asset.body);
  }
}
