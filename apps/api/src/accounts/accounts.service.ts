import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../../libs/config';
import { verifyImapLogin } from '../../../../libs/imap';
import { createLogger } from '../../../../libs/logging';
import { AccountRepository, type Account } from '../../../../libs/store';
import { ApiError } from '../common/api-error';
import type { CreateAccountBody } from './account.schemas';

const log = createLogger('accounts');

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Verifies the login against the server first: nothing is stored for credentials that do not work. */
  async link(userId: string, body: CreateAccountBody): Promise<Account> {
    const check = await verifyImapLogin(
      body.imap,
      { user: body.auth.username, pass: body.auth.password },
      { allowPrivateHosts: this.config.allowPrivateHosts, timeouts: this.config.imap },
    );
    if (!check.ok) {
      log.info('account link refused', { userId, code: check.error.code });
      throw new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, check.error.code, check.error.message);
    }
    const account = await this.accounts.create(
      userId,
      { email: body.email, imap: body.imap, username: body.auth.username, password: body.auth.password },
      check.cursor,
    );
    log.info('account linked', { userId, accountId: account.id });
    return account;
  }
}
