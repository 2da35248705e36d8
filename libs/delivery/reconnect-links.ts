import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { LinkSessionRepository, type Account } from '@mailpush/store';

/** A notification may be read hours later; a day is long enough and still bounded. */
export const RECONNECT_LINK_TTL_MS = 24 * 3600_000;

/**
 * The one-time link a Reconnect notification carries: a link session scoped to the account,
 * consumed when the account is re-armed. Made at send time (never stored in a queue job):
 * an OAuth2 account's link starts the provider's consent at once, a password account's opens
 * the web form to type the new password.
 */
@Injectable()
export class ReconnectLinks {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: LinkSessionRepository,
  ) {}

  /** undefined without PUBLIC_URL (no address to send the person to); the app can still act on `accountId`. */
  async create(account: Account): Promise<string | undefined> {
    const base = this.config.http.publicUrl?.replace(/\/+$/, '');
    if (!base) return undefined;
    const session = await this.sessions.createScoped(account.userId, account.id, RECONNECT_LINK_TTL_MS);
    const id = encodeURIComponent(account.id);
    if (account.authType === 'oauth2' && account.oauthProvider) {
      return `${base}/v1/oauth/${encodeURIComponent(account.oauthProvider)}/start?account=${id}&link=${session.token}`;
    }
    return `${base}/link?account=${id}#${session.token}`;
  }
}
