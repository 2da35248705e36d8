import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { ErrorClass, classifyOAuthError } from '@mailpush/errors';
import { imapEndpointPolicy, verifyImapLogin } from '@mailpush/imap';
import { LoginLimiter } from '@mailpush/limits';
import { createLogger } from '@mailpush/logging';
import { OAuthProviderClient, pkcePair, randomNonce } from '@mailpush/oauth';
import { ProviderRegistry, type Provider } from '@mailpush/providers';
import {
  AccountRepository,
  LinkSessionRepository,
  OAuthStateRepository,
  OwnerGoneError,
  QuotaExceededError,
  UserRepository,
  sha256Hex,
  type ImapEndpoint,
} from '@mailpush/store';
import type { OAuthFailure } from './oauth-pages';

const log = createLogger('oauth');

/** How long a started sign-in may take at the provider. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

export type StartOutcome = { ok: true; location: string } | { ok: false; failure: OAuthFailure };
export type CallbackOutcome = { ok: true; accountId: string } | { ok: false; failure: OAuthFailure; detail?: string };

export interface StartRequest {
  provider: string;
  /** A link token (`mpl_`) from the query or the bearer header, or a user API key (`mpk_`). */
  credential?: string;
  accountId?: string;
  loginHint?: string;
}

/**
 * OAuth2 linking: `start` remembers who is linking (and, on a re-arm, which account) under a
 * single-use state and sends the browser to the provider; `callback` claims that state, exchanges
 * the code, learns the address, proves it with an IMAP login, and only then stores anything.
 */
@Injectable()
export class OAuthLinkService {
  private readonly clients = new Map<string, OAuthProviderClient>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly states: OAuthStateRepository,
    private readonly sessions: LinkSessionRepository,
    private readonly users: UserRepository,
    private readonly accounts: AccountRepository,
    private readonly limiter: LoginLimiter,
  ) {}

  async start(req: StartRequest): Promise<StartOutcome> {
    const client = this.client(req.provider);
    if (!client) return { ok: false, failure: 'provider_unavailable' };
    const who = await this.identify(req.credential);
    if (!who) return { ok: false, failure: 'link_expired' };
    const accountId = req.accountId ?? who.scope;
    if (who.scope && accountId !== who.scope) return { ok: false, failure: 'link_expired' };
    let loginHint = req.loginHint;
    if (accountId) {
      const account = await this.accounts.findForUser(who.userId, accountId);
      if (!account) return { ok: false, failure: 'account_not_found' };
      loginHint ??= account.email;
    } else if (await this.atMailboxLimit(who.userId)) {
      return { ok: false, failure: 'mailbox_limit' };
    }
    const pkce = pkcePair();
    const nonce = randomNonce();
    const state = await this.states.create(
      {
        provider: client.provider.id,
        userId: who.userId,
        ...(who.linkTokenHash ? { linkTokenHash: who.linkTokenHash } : {}),
        ...(accountId ? { accountId } : {}),
        codeVerifier: pkce.verifier,
        nonce,
        createdAt: Date.now(),
      },
      OAUTH_STATE_TTL_MS,
    );
    log.info('oauth sign-in started', { userId: who.userId, provider: client.provider.id, rearm: Boolean(accountId) });
    const url = client.authorizationUrl({
      state,
      codeChallenge: await pkce.challenge,
      nonce,
      ...(loginHint ? { loginHint } : {}),
    });
    return { ok: true, location: url.toString() };
  }

  /**
   * `clientAddress`: the browser's address as Express sees it; the login check at the end counts
   * toward the same limits as a password link (per user, per address, per host, the link session).
   */
  async callback(params: URLSearchParams, clientAddress?: string): Promise<CallbackOutcome> {
    const state = params.get('state');
    const record = state ? await this.states.claim(state) : null;
    const error = params.get('error');
    if (error === 'access_denied') return { ok: false, failure: 'access_denied' };
    if (!state || !record) return { ok: false, failure: 'state_invalid' };
    if (error) return { ok: false, failure: 'provider_error' };
    const client = this.client(record.provider);
    if (!client) return { ok: false, failure: 'provider_unavailable' };

    let scope: string | undefined;
    if (record.linkTokenHash) {
      const session = await this.sessions.findByHash(record.linkTokenHash);
      if (!session || session.userId !== record.userId) return { ok: false, failure: 'link_expired' };
      scope = session.accountId;
    }
    const target = record.accountId ? await this.accounts.findForUser(record.userId, record.accountId) : null;
    if (record.accountId && !target) return { ok: false, failure: 'account_not_found' };
    if (!record.accountId && (await this.atMailboxLimit(record.userId))) return { ok: false, failure: 'mailbox_limit' };

    let exchanged;
    try {
      exchanged = await client.exchangeCode(params, {
        state,
        codeVerifier: record.codeVerifier,
        nonce: record.nonce,
      });
    } catch (err) {
      const classified = classifyOAuthError(err);
      log.warn('oauth code exchange failed', {
        userId: record.userId,
        provider: record.provider,
        code: classified.code,
      });
      if (classified.code === 'access_denied') return { ok: false, failure: 'access_denied' };
      if (classified.code === 'no_address') return { ok: false, failure: 'no_address' };
      if (classified.code === 'no_refresh_token') return { ok: false, failure: 'no_refresh_token' };
      return { ok: false, failure: 'exchange_failed' };
    }
    const refreshToken = exchanged.refreshToken;
    if (!refreshToken) return { ok: false, failure: 'no_refresh_token' };

    if (target && target.email.toLowerCase() !== exchanged.address) {
      await this.revokeQuietly(client, refreshToken);
      return { ok: false, failure: 'wrong_mailbox', detail: `Expected ${target.email}.` };
    }
    const endpoint: ImapEndpoint = target ? target.imap : client.provider.imap;
    if (!endpoint.host) return { ok: false, failure: 'provider_unavailable' };
    const check = await verifyImapLogin(
      endpoint,
      { user: exchanged.address, accessToken: exchanged.accessToken },
      {
        policy: { ...imapEndpointPolicy(this.config), allowPrivateHosts: this.allowPrivate(client.provider) },
        timeouts: this.config.imap,
        gate: this.limiter.gateFor({
          userId: record.userId,
          ...(clientAddress ? { clientAddress } : {}),
          ...(record.linkTokenHash ? { linkSessionHash: record.linkTokenHash } : {}),
        }),
      },
    );
    if (!check.ok) {
      log.info('oauth link refused by the IMAP server', { userId: record.userId, code: check.error.code });
      await this.revokeQuietly(client, refreshToken);
      if (check.error.code === 'too_many_attempts') return { ok: false, failure: 'too_many_attempts' };
      return {
        ok: false,
        failure: 'imap_refused',
        ...(check.error.errorClass === ErrorClass.Auth ? {} : { detail: check.error.message }),
      };
    }
    const grant = {
      provider: client.provider.id,
      refreshToken,
      access: { accessToken: exchanged.accessToken, expiresAt: exchanged.expiresAt },
    };
    if (target) {
      const consume =
        scope === target.id && record.linkTokenHash ? this.sessions.consumeKeys(record.linkTokenHash) : undefined;
      const rearmed = await this.accounts.rearmWithOAuth(record.userId, target.id, exchanged.address, grant, consume);
      if (rearmed === 'link_used') return { ok: false, failure: 'link_expired' };
      if (rearmed === 'not_found') return { ok: false, failure: 'account_not_found' };
      log.info('account re-armed by oauth sign-in', { userId: record.userId, accountId: target.id });
      return { ok: true, accountId: target.id };
    }
    if (scope) return { ok: false, failure: 'link_expired' };
    let account;
    try {
      account = await this.accounts.create(
        record.userId,
        { email: exchanged.address, imap: endpoint, username: exchanged.address, oauth: grant },
        check.cursor,
      );
    } catch (err) {
      if (!(err instanceof QuotaExceededError) && !(err instanceof OwnerGoneError)) throw err;
      await this.revokeQuietly(client, refreshToken);
      return { ok: false, failure: err instanceof QuotaExceededError ? 'mailbox_limit' : 'link_expired' };
    }
    log.info('account linked by oauth sign-in', {
      userId: record.userId,
      accountId: account.id,
      provider: grant.provider,
    });
    return { ok: true, accountId: account.id };
  }

  private async atMailboxLimit(userId: string): Promise<boolean> {
    return (await this.accounts.countForUser(userId)) >= this.config.limits.accountsPerUser;
  }

  /** Operator-configured servers (providers file) may sit on the operator's own network. */
  private allowPrivate(provider: Provider): boolean {
    return this.config.allowPrivateHosts || provider.source === 'file';
  }

  private async identify(
    credential: string | undefined,
  ): Promise<{ userId: string; linkTokenHash?: string; scope?: string } | null> {
    if (!credential || credential.length > 512) return null;
    if (credential.startsWith('mpl_')) {
      const hash = sha256Hex(credential);
      const found = await this.sessions.findByHash(hash);
      // A session of a deleted user is dead even in the moment before erasure reaches it.
      const session = found && (await this.users.find(found.userId)) ? found : null;
      return session
        ? { userId: session.userId, linkTokenHash: hash, ...(session.accountId ? { scope: session.accountId } : {}) }
        : null;
    }
    if (credential.startsWith('mpk_')) {
      const user = await this.users.findByApiKey(credential);
      return user ? { userId: user.id } : null;
    }
    return null;
  }

  private client(providerId: string): OAuthProviderClient | undefined {
    const found = this.registry.oauth(providerId);
    if (!found || !this.config.oauthRedirectUri) return undefined;
    let client = this.clients.get(providerId);
    if (!client) {
      client = new OAuthProviderClient(found.provider, this.config.oauthRedirectUri);
      this.clients.set(providerId, client);
    }
    return client;
  }

  /** Nothing is stored for a refused link: the grant we were given is handed back (best effort). */
  private async revokeQuietly(client: OAuthProviderClient, refreshToken: string): Promise<void> {
    await client.revoke(refreshToken).catch(() => undefined);
  }
}
