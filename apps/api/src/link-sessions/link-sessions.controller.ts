import { Body, Controller, Get, HttpCode, HttpStatus, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../../../libs/config';
import { createLogger } from '../../../../libs/logging';
import { LinkSessionRepository, type User } from '../../../../libs/store';
import { createAccountSchema, type CreateAccountBody } from '../accounts/account.schemas';
import { presentAccount } from '../accounts/accounts.controller';
import { AccountsService } from '../accounts/accounts.service';
import {
  CurrentLinkSession,
  CurrentUser,
  LinkSessionGuard,
  UserGuard,
  type LinkSessionContext,
} from '../common/auth.guards';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import { ApiError } from '../common/api-error';
import { Requester } from '../common/requester';
import type { LoginRequester } from '../../../../libs/limits';

const log = createLogger('link-sessions');

/** Bounds a claim whose holder died mid-link; above the login check's deadline. */
const CLAIM_HOLD_MS = 2 * 60_000;

/** Long enough to go and create an app password, short enough that a leaked link soon dies. */
export const LINK_SESSION_TTL_MS = 15 * 60_000;

@Controller('v1/link-sessions')
@UseGuards(UserGuard)
export class LinkSessionsController {
  constructor(
    private readonly sessions: LinkSessionRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A one-time URL for the web form, for an app to open in a browser. The token travels in the
   * URL fragment, which browsers never send to servers or in Referer headers.
   */
  @Post()
  @HttpCode(201)
  async create(@CurrentUser() user: User, @Req() req: Request): Promise<{ url: string; expiresAt: string }> {
    const session = await this.sessions.create(user.id, LINK_SESSION_TTL_MS);
    const base = this.config.http.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    log.info('link session created', { userId: user.id });
    return { url: `${base.replace(/\/+$/, '')}/link#${session.token}`, expiresAt: session.expiresAt };
  }
}

@Controller('v1/link-session')
@UseGuards(LinkSessionGuard)
export class CurrentLinkSessionController {
  constructor(
    private readonly sessions: LinkSessionRepository,
    private readonly accounts: AccountsService,
  ) {}

  @Get()
  current(@CurrentLinkSession() session: LinkSessionContext): { expiresAt: string } {
    return { expiresAt: session.expiresAt };
  }

  /**
   * Links a mailbox for the session's user. The session is claimed atomically first, so two
   * concurrent submits cannot both link; a refused login leaves the link usable for another try
   * (up to LINK_SESSION_MAX_REFUSALS refusals, then it ends).
   */
  @Post('accounts')
  @HttpCode(201)
  async link(
    @CurrentLinkSession() session: LinkSessionContext,
    @Requester() requester: LoginRequester,
    @Body(new ZodBodyPipe(createAccountSchema)) body: CreateAccountBody,
  ) {
    if (!(await this.sessions.claim(session.token, CLAIM_HOLD_MS))) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'link_in_use',
        'This link is being used to link a mailbox right now; wait for that to finish',
      );
    }
    try {
      const account = await this.accounts.link(requester, body);
      await this.sessions.end(session.token);
      return presentAccount(account);
    } catch (err) {
      await this.sessions.releaseClaim(session.token);
      throw err;
    }
  }
}
