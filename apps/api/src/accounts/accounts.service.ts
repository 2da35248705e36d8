import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../../libs/config';
import { verifyImapLogin, type LoginCheck } from '../../../../libs/imap';
import { createLogger } from '../../../../libs/logging';
import { AccountRepository, type Account, type ImapEndpoint } from '../../../../libs/store';
import { ApiError, notFound } from '../common/api-error';
import type { CreateAccountBody, ReplaceCredentialsBody } from './account.schemas';

const log = createLogger('accounts');

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Verifies the login against the server first: nothing is stored for credentials that do not work. */
  async link(userId: string, body: CreateAccountBody): Promise<Account> {
    const check = await this.verify(body.imap, body.auth.username, body.auth.password);
    if (!check.ok) {
      log.info('account link refused', { userId, code: check.error.code });
      throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, check.error.code, check.error.message);
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
    userId: string,
    accountId: string,
    body: ReplaceCredentialsBody,
    consume?: { sessionKey: string; scopeKey: string },
  ): Promise<Account> {
    const account = await this.accounts.findForUser(userId, accountId);
    if (!account) throw notFound('Account');
    const username = body.auth.username ?? account.username;
    const check = await this.verify(account.imap, username, body.auth.password);
    if (!check.ok) {
      log.info('new credentials refused', { userId, accountId, code: check.error.code });
      throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, check.error.code, check.error.message);
    }
    const updated = await this.accounts.replaceCredentials(userId, accountId, username, body.auth.password, consume);
    if (updated === 'link_used') {
      throw new ApiError(HttpStatus.UNAUTHORIZED, 'link_expired', 'This reconnect link was already used');
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

  private verify(endpoint: ImapEndpoint, username: string, password: string): Promise<LoginCheck> {
    return verifyImapLogin(
      endpoint,
      { user: username, pass: password },
      { allowPrivateHosts: this.config.allowPrivateHosts, timeouts: this.config.imap },
    );
  }
}
