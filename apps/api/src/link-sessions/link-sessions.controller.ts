import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { createLogger } from '@mailpush/logging';
import { AccountRepository, LinkSessionRepository, type User } from '@mailpush/store';
import { createAccountSchema, type CreateAccountBody } from '../accounts/account.schemas';
import { presentAccount } from '../accounts/accounts.controller';
import { AccountsService } from '../accounts/accounts.service';
import {
  AllowScopedLinkSession,
  CurrentLinkSession,
  CurrentUser,
  LinkSessionGuard,
  UserGuard,
  type LinkSessionContext,
} from '../common/auth.guards';
import { ApiError, notFound } from '../common/api-error';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import { webDeviceSchema, type WebDeviceBody } from '../devices/device.schemas';
import { presentDevice } from '../devices/devices.controller';
import { DevicesService } from '../devices/devices.service';
import { EventStreamService } from '../events/event-stream.service';
import { Requester } from '../common/requester';
import type { LoginRequester } from '@mailpush/limits';
import { ErrorCode } from '@mailpush/errors';

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
   * A link for the web form, for an app to open in a browser: a 15-minute capability for this
   * user (link, list and remove mailboxes, Notify this browser, the live list). The token travels
   * in the URL fragment, which browsers never send to servers or in Referer headers.
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

/**
 * What the bearer of a link token may do for its user while the session lives (15 minutes): link
 * mailboxes, see and remove them, register this browser for Web Push, and read the live event
 * stream. Every account route checks the account belongs to the session's user (404 otherwise).
 */
@Controller('v1/link-session')
@UseGuards(LinkSessionGuard)
export class CurrentLinkSessionController {
  constructor(
    private readonly sessions: LinkSessionRepository,
    private readonly accounts: AccountRepository,
    private readonly accountsService: AccountsService,
    private readonly devices: DevicesService,
    private readonly streams: EventStreamService,
  ) {}

  /** A Reconnect link may read this too: `accountId` tells the page which mailbox to re-arm. */
  @Get()
  @AllowScopedLinkSession(true)
  current(@CurrentLinkSession() session: LinkSessionContext): { expiresAt: string; accountId?: string } {
    return { expiresAt: session.expiresAt, ...(session.accountId ? { accountId: session.accountId } : {}) };
  }

  /** Ends the session before its time ("I'm done" on a shared computer). */
  @Delete()
  @HttpCode(204)
  async end(@CurrentLinkSession() session: LinkSessionContext): Promise<void> {
    await this.sessions.end(session.token);
    log.info('link session ended', { userId: session.userId });
  }

  @Get('accounts')
  async listAccounts(@CurrentLinkSession() session: LinkSessionContext) {
    return { accounts: (await this.accounts.listForUser(session.userId)).map(presentAccount) };
  }

  @Get('accounts/:id')
  async getAccount(@CurrentLinkSession() session: LinkSessionContext, @Param('id') id: string) {
    const account = await this.accounts.findForUser(session.userId, id);
    if (!account) throw notFound('Account');
    return presentAccount(account);
  }

  /**
   * Links a mailbox for the session's user; the session stays usable for more until it expires.
   * One submit in flight per link: the session is claimed atomically first, so two concurrent
   * submits cannot both link (the second gets 409). The claim is let go when the submit ends;
   * LINK_SESSION_MAX_REFUSALS refused logins end the session.
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
        ErrorCode.LinkInUse,
        'This link is being used to link a mailbox right now; wait for that to finish',
      );
    }
    try {
      return presentAccount(await this.accountsService.link(requester, body));
    } finally {
      await this.sessions.releaseClaim(session.token);
    }
  }

  /** Removes a mailbox exactly like `DELETE /v1/accounts/{id}`: watching stops, credentials and cursor are erased. */
  @Delete('accounts/:id')
  @HttpCode(204)
  async removeAccount(@CurrentLinkSession() session: LinkSessionContext, @Param('id') id: string): Promise<void> {
    if (!(await this.accounts.remove(session.userId, id))) throw notFound('Account');
    log.info('account removed through a link session', { userId: session.userId, accountId: id });
  }

  /** Registers the browser holding the link as a Web Push device of the session's user. */
  @Post('devices')
  async registerBrowser(
    @CurrentLinkSession() session: LinkSessionContext,
    @Body(new ZodBodyPipe(webDeviceSchema)) body: WebDeviceBody,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { device, created } = await this.devices.register(session.userId, body);
    res.status(created ? 201 : 200);
    return presentDevice(device);
  }

  /** The user's live events (as `GET /v1/events`), ending when the session expires. */
  @Get('events')
  async events(
    @CurrentLinkSession() session: LinkSessionContext,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.streams.stream(session.userId, req, res, { endsAt: Date.parse(session.expiresAt) });
  }
}
