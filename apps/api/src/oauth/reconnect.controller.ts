import { Body, Controller, Param, Put, UseGuards } from '@nestjs/common';
import { LinkSessionRepository, sha256Hex } from '@mailpush/store';
import { replaceCredentialsSchema, type ReplaceCredentialsBody } from '../accounts/account.schemas';
import { presentAccount } from '../accounts/accounts.controller';
import { AccountsService } from '../accounts/accounts.service';
import { ApiError } from '../common/api-error';
import {
  AllowScopedLinkSession,
  CurrentLinkSession,
  LinkSessionGuard,
  type LinkSessionContext,
} from '../common/auth.guards';
import { Requester } from '../common/requester';
import { ZodBodyPipe } from '../common/zod-body.pipe';
import type { LoginRequester } from '@mailpush/limits';
import { HttpStatus } from '@nestjs/common';
import { ErrorCode } from '@mailpush/errors';

/**
 * A password account's Reconnect link: the person types the new password in the web form, which
 * sends it here with the link token. Checked against the server first; a Reconnect link is
 * consumed by the re-arm, in the same step.
 */
@Controller('v1/link-session/accounts')
@UseGuards(LinkSessionGuard)
export class ReconnectController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: LinkSessionRepository,
  ) {}

  @Put(':id/credentials')
  @AllowScopedLinkSession(true)
  async replaceCredentials(
    @CurrentLinkSession() session: LinkSessionContext,
    @Requester() requester: LoginRequester,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(replaceCredentialsSchema)) body: ReplaceCredentialsBody,
  ) {
    if (session.accountId && session.accountId !== id) {
      throw new ApiError(HttpStatus.FORBIDDEN, ErrorCode.LinkScope, 'This link reconnects another mailbox');
    }
    const consume = session.accountId ? this.sessions.consumeKeys(sha256Hex(session.token)) : undefined;
    return presentAccount(await this.accounts.replaceCredentials(requester, id, body, consume));
  }
}
