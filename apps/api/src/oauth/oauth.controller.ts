import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { failurePage, PAGE_HEADERS, type OAuthFailure } from './oauth-pages';
import { OAuthLinkService } from './oauth-link.service';

export const startQuery = z.object({
  link: z.string().max(512).optional(),
  account: z
    .string()
    .regex(/^acc_[0-9a-f]{20}$/)
    .optional(),
  login_hint: z.email().max(254).optional(),
});

/** Only the parameters an authorization response carries, each bounded. */
export const callbackQuery = z.object({
  state: z.string().max(256).optional(),
  code: z.string().max(4096).optional(),
  error: z
    .string()
    .regex(/^[\x20-\x7e]{1,128}$/)
    .optional(),
  error_description: z.string().max(1024).optional(),
  error_uri: z.string().max(2048).optional(),
  iss: z.string().max(512).optional(),
  scope: z.string().max(4096).optional(),
  session_state: z.string().max(512).optional(),
  authuser: z.string().max(16).optional(),
  prompt: z.string().max(64).optional(),
  hd: z.string().max(253).optional(),
});

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(header) : null;
  return m?.[1];
}

/**
 * `GET /v1/oauth/{provider}/start` → 302 to the provider; `GET /v1/oauth/callback` → 302 to
 * `/link?linked=<id>`, or a plain-words page saying what went wrong (nothing stored).
 */
@Controller('v1/oauth')
export class OAuthController {
  constructor(
    private readonly oauth: OAuthLinkService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('callback')
  async callback(@Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const parsed = callbackQuery.safeParse(query);
    if (!parsed.success) return this.fail(res, 'bad_request');
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(parsed.data)) if (typeof v === 'string') params.set(k, v);
    const outcome = await this.oauth.callback(params, req.ip);
    if (!outcome.ok) return this.fail(res, outcome.failure, outcome.detail);
    const base = (this.config.http.publicUrl ?? '').replace(/\/+$/, '');
    res.set({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    res.redirect(302, `${base}/link?linked=${encodeURIComponent(outcome.accountId)}`);
  }

  @Get(':provider/start')
  async start(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const parsed = startQuery.safeParse(query);
    if (!parsed.success || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(provider)) return this.fail(res, 'bad_request');
    const outcome = await this.oauth.start({
      provider,
      credential: parsed.data.link ?? bearer(req),
      ...(parsed.data.account ? { accountId: parsed.data.account } : {}),
      ...(parsed.data.login_hint ? { loginHint: parsed.data.login_hint } : {}),
    });
    if (!outcome.ok) return this.fail(res, outcome.failure);
    res.set({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    res.redirect(302, outcome.location);
  }

  private fail(res: Response, failure: OAuthFailure, detail?: string): void {
    const page = failurePage(failure, detail);
    res.status(page.status).set(PAGE_HEADERS).send(page.html);
  }
}
