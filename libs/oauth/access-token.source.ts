import { ClassifiedFailure, ErrorClass, ErrorCode, classifyOAuthError } from '@mailpush/errors';
import type { AccessToken, AccessTokenSource } from '@mailpush/imap/access-token-source';
import type { Logger } from '@mailpush/logging';
import type { AccountRepository, OAuthAccess, OAuthRefreshLockRepository, StoredOAuthGrant } from '@mailpush/store';
import type { TokenSet } from './oauth-provider.client';

/** Longer than one token request may take (OAUTH_TIMEOUT_MS), so a live refresh never loses its lock. */
const REFRESH_LOCK_TTL_MS = 30_000;
const LOCK_POLL_MS = 100;

export interface GrantTokenSourceDeps {
  accountId: string;
  accounts: Pick<AccountRepository, 'oauthGrant' | 'storeRefreshedGrant'>;
  locks: Pick<OAuthRefreshLockRepository, 'acquire' | 'release'>;
  refresh(refreshToken: string): Promise<TokenSet>;
  /** Refresh this long before expiry. */
  marginMs: number;
  logger: Logger;
  /** Counts refreshes by outcome (metrics). */
  refreshed?(outcome: string): void;
}

/**
 * Access tokens of one account's OAuth2 grant. The newest access token lives sealed beside the
 * grant in Redis, so every process reads the same one; a refresh happens under the account's
 * refresh lock, re-reads the grant inside it (someone may just have refreshed), and stores a
 * rotated refresh token with compare-and-set.
 */
export class GrantTokenSource implements AccessTokenSource {
  constructor(private readonly deps: GrantTokenSourceDeps) {}

  async accessToken(refused?: string): Promise<AccessToken> {
    const deadline = Date.now() + REFRESH_LOCK_TTL_MS + 5_000;
    for (;;) {
      const grant = await this.grant();
      const usable = this.usable(grant.access, refused);
      if (usable) return usable;
      const lock = await this.deps.locks.acquire(this.deps.accountId, REFRESH_LOCK_TTL_MS);
      if (!lock) {
        if (Date.now() > deadline) {
          throw new ClassifiedFailure({
            errorClass: ErrorClass.Transient,
            code: ErrorCode.OAuthRefreshBusy,
            message: 'Another process has been refreshing this sign-in for too long',
          });
        }
        await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
        continue;
      }
      try {
        return await this.refreshLocked(refused);
      } finally {
        await this.deps.locks.release(lock).catch(() => undefined);
      }
    }
  }

  private async refreshLocked(refused: string | undefined): Promise<AccessToken> {
    const grant = await this.grant();
    const usable = this.usable(grant.access, refused);
    if (usable) return usable;
    let tokens: TokenSet;
    try {
      tokens = await this.deps.refresh(grant.refreshToken);
    } catch (err) {
      const classified = classifyOAuthError(err);
      this.deps.refreshed?.(classified.code);
      this.deps.logger.warn('access token refresh failed', {
        accountId: this.deps.accountId,
        code: classified.code,
        errorClass: classified.errorClass,
      });
      throw new ClassifiedFailure(classified);
    }
    const access: OAuthAccess = { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt };
    const stored = await this.deps.accounts.storeRefreshedGrant(
      this.deps.accountId,
      grant,
      tokens.refreshToken,
      access,
    );
    const rotated = tokens.refreshToken !== undefined && tokens.refreshToken !== grant.refreshToken;
    this.deps.refreshed?.('ok');
    this.deps.logger.info('access token refreshed', { accountId: this.deps.accountId, rotated, stored });
    return this.withRefreshAt(access);
  }

  private async grant(): Promise<StoredOAuthGrant> {
    const grant = await this.deps.accounts.oauthGrant(this.deps.accountId);
    if (!grant) {
      throw new ClassifiedFailure({
        errorClass: ErrorClass.Permanent,
        code: ErrorCode.NoGrant,
        message: 'The account holds no OAuth2 sign-in',
      });
    }
    return grant;
  }

  private usable(access: OAuthAccess | undefined, refused: string | undefined): AccessToken | undefined {
    if (!access || access.accessToken === refused) return undefined;
    return access.expiresAt - Date.now() > this.deps.marginMs ? this.withRefreshAt(access) : undefined;
  }

  private withRefreshAt(access: OAuthAccess): AccessToken {
    return { ...access, refreshAt: access.expiresAt - this.deps.marginMs };
  }
}
