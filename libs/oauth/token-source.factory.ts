import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { ClassifiedFailure, ErrorClass, ErrorCode } from '@mailpush/errors';
import type { AccessTokenSource } from '@mailpush/imap/access-token-source';
import { createLogger } from '@mailpush/logging';
import { ProviderRegistry } from '@mailpush/providers';
import { AccountRepository, OAuthRefreshLockRepository } from '@mailpush/store';
import { GrantTokenSource } from './access-token.source';
import { OAuthProviderClient } from './oauth-provider.client';

/** Builds the token source of an OAuth2 account for the worker that watches it. */
@Injectable()
export class TokenSourceFactory {
  private readonly clients = new Map<string, OAuthProviderClient>();
  private readonly log = createLogger('oauth-tokens');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly accounts: AccountRepository,
    private readonly locks: OAuthRefreshLockRepository,
  ) {}

  forAccount(accountId: string, refreshed?: (outcome: string) => void): AccessTokenSource {
    return new GrantTokenSource({
      accountId,
      accounts: this.accounts,
      locks: this.locks,
      marginMs: this.config.oauthRefreshMarginMs,
      logger: this.log,
      ...(refreshed ? { refreshed } : {}),
      refresh: async (refreshToken) => {
        const grant = await this.accounts.oauthGrant(accountId);
        return this.client(grant?.provider).refresh(refreshToken);
      },
    });
  }

  private client(providerId: string | undefined): OAuthProviderClient {
    const found = providerId ? this.registry.oauth(providerId) : undefined;
    if (!found || !this.config.oauthRedirectUri) {
      throw new ClassifiedFailure({
        errorClass: ErrorClass.Permanent,
        code: ErrorCode.OAuthUnavailable,
        message: 'Sign-in with this provider is no longer configured',
      });
    }
    let client = this.clients.get(found.provider.id);
    if (!client) {
      client = new OAuthProviderClient(found.provider, this.config.oauthRedirectUri);
      this.clients.set(found.provider.id, client);
    }
    return client;
  }
}
