import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { ErrorCode, type ClassifiedError } from '@mailpush/errors';
import { imapEndpointPolicy, verifyImapLogin, type LoginCheck } from '@mailpush/imap';
import { LoginLimiter, type LoginRequester } from '@mailpush/limits';
import { createLogger } from '@mailpush/logging';
import { AccountRepository, QuotaExceededError, type Account, type ImapEndpoint } from '@mailpush/store';
import { ApiError, TooManyRequestsError, notFound } from '../common/api-error';
import type { CreateAccountBody, ReplaceCredentialsBody } from './account.schemas';

const log = createLogger('accounts');

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly limiter: LoginLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Verifies the login against the server first: nothing is stored for credentials that do not
   * work. The mailbox quota is looked at before the login (no login for a link that cannot be
   * stored) and enforced atomically when storing.
   */
  async link(requester: LoginRequester, body: CreateAccountBody): Promise<Account> {
    const userId = requester.userId;
    const max = this.config.limits.accountsPerUser;
    if ((await this.accounts.countForUser(userId)) >= max) throw new QuotaExceededError('mailboxes', max);
    const check = await this.verify(requester, body.imap, body.auth.username, body.auth.password);
    if (!check.ok) {
      log.info('account link refused', { userId, code: check.error.code });
      throw refusal(check.error);
    }
    const account = await this.accounts.create(
      userId,
      {
        email: body.email,
        imap: body.imap,
        username: body.auth.username,
        password: body.auth.password,
        options: body.options,
      },
      check.cursor,
    );
    log.info('account linked', { userId, accountId: account.id });
    return account;
  }

  /**
   * Replaces the credentials after checking them against the account's server, like linking does;
   * the account leaves `auth_error` and a worker connects with them (the cursor is kept, so mail
   * that arrived meanwhile is still notified).
   */
  async replaceCredentials(
    requester: LoginRequester,
    accountId: string,
    body: ReplaceCredentialsBody,
    consume?: { sessionKey: string; scopeKey: string },
  ): Promise<Account> {
    const userId = requester.userId;
    const account = await this.accounts.findForUser(userId, accountId);
    if (!account) throw notFound('Account');
    const username = body.auth.username ?? account.username;
    const check = await this.verify(requester, account.imap, username, body.auth.password);
    if (!check.ok) {
      log.info('new credentials refused', { userId, accountId, code: check.error.code });
      throw refusal(check.error);
    }
    const updated = await this.accounts.replaceCredentials(userId, accountId, username, body.auth.password, consume);
    if (updated === 'link_used') {
      throw new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.LinkExpired, 'This reconnect link was already used');
    }
    if (!updated) throw notFound('Account');
    log.info('account credentials replaced', { userId, accountId });
    return updated;
  }

  async setEnabled(userId: string, accountId: string, enabled: boolean): Promise<Account> {
    const updated = await this.accounts.setEnabled(userId, accountId, enabled);
    if (!updated) throw notFound('Account');
    log.info(enabled ? 'account enabled' : 'account disabled', { userId, accountId });
    return updated;
  }

  private verify(
    requester: LoginRequester,
    endpoint: ImapEndpoint,
    username: string,
    password: string,
  ): Promise<LoginCheck> {
    return verifyImapLogin(
      endpoint,
      { user: username, pass: password },
      { policy: imapEndpointPolicy(this.config), timeouts: this.config.imap, gate: this.limiter.gateFor(requester) },
    );
  }
}

/** Our own limit answers 429 with Retry-After; anything the check found wrong with the mailbox, 422. */
function refusal(error: ClassifiedError): ApiError {
  if (error.code === ErrorCode.TooManyAttempts) {
    return new TooManyRequestsError(error.code, error.message, error.retryAfterMs ?? 60_000);
  }
  return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, error.code, error.message);
}
