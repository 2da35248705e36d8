import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { OAuthErrorCode } from '@mailpush/errors';
import type { OAuthClient, Provider } from '@mailpush/providers';
import { boundedFetch } from './bounded-fetch';

/** A provider that answers nothing within this long is down for this attempt. */
const OAUTH_TIMEOUT_MS = 15_000;

/**
 * ID tokens from the token endpoint are trusted by TLS (OIDC Core 3.1.3.7), not by signature:
 * any asymmetric algorithm is fine, `none` and HMAC are not.
 */
const ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

export interface TokenSet {
  accessToken: string;
  /** ms since epoch. */
  expiresAt: number;
  /** Present on the first exchange, and on a refresh when the provider rotates it. */
  refreshToken?: string;
}

export interface CodeExchangeResult extends TokenSet {
  /** The mailbox address (ID token `email`, else the userinfo endpoint's). */
  address: string;
}

/** Used when a reply omits `expires_in` (RFC 6749 makes it optional): assume the common hour. */
const DEFAULT_LIFETIME_S = 3600;

function noAddress(): Error {
  return Object.assign(new Error('no mailbox address from the provider'), { code: OAuthErrorCode.NoAddress });
}

const peekedClaims = z.object({ iss: z.unknown(), tid: z.unknown() });
const tokenReply = z.object({ id_token: z.unknown() });

/** The reply's `id_token` as sent, unread by oauth4webapi yet (which validates it next); undefined when there is none. */
async function idTokenOf(response: Response): Promise<unknown> {
  const parsed = tokenReply.safeParse(
    await response
      .clone()
      .json()
      .catch(() => undefined),
  );
  return parsed.success ? parsed.data.id_token : undefined;
}

/** The unverified `iss` / `tid` of an ID token, only to pick which configured issuer to check it against. */
function peekIdToken(idToken: unknown): { iss?: string; tid?: string } {
  if (typeof idToken !== 'string' || idToken.length > 16_384) return {};
  const payload = idToken.split('.')[1];
  if (!payload) return {};
  try {
    const parsed = peekedClaims.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    if (!parsed.success) return {};
    const claims = parsed.data;
    return {
      ...(typeof claims.iss === 'string' ? { iss: claims.iss } : {}),
      ...(typeof claims.tid === 'string' ? { tid: claims.tid } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * One provider's OAuth2 client, built on oauth4webapi (which validates every field of the
 * provider's replies, the ID token's claims included). Every URL it calls comes from the
 * provider registry (operator configuration), never from a request.
 */
export class OAuthProviderClient {
  private readonly settings: OAuthClient;
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;

  constructor(
    readonly provider: Provider,
    private readonly redirectUri: string,
  ) {
    if (!provider.oauth) throw new Error(`provider ${provider.id} has no OAuth client configured`);
    this.settings = provider.oauth;
    this.client = { client_id: this.settings.clientId };
    this.auth =
      this.settings.tokenEndpointAuth === 'client_secret_basic'
        ? oauth.ClientSecretBasic(this.settings.clientSecret)
        : oauth.ClientSecretPost(this.settings.clientSecret);
  }

  get wantsIdToken(): boolean {
    return this.settings.scopes.includes('openid');
  }

  /** The provider's consent page: authorization code + PKCE (S256). */
  authorizationUrl(p: { state: string; codeChallenge: string; nonce: string; loginHint?: string }): URL {
    const url = new URL(this.settings.authorizeUrl);
    for (const [k, v] of Object.entries(this.settings.extraParams ?? {})) url.searchParams.set(k, v);
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.settings.scopes.join(' '));
    url.searchParams.set('state', p.state);
    url.searchParams.set('code_challenge', p.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    if (this.wantsIdToken) url.searchParams.set('nonce', p.nonce);
    if (p.loginHint) url.searchParams.set('login_hint', p.loginHint);
    return url;
  }

  /**
   * Checks the callback parameters (state, the RFC 9207 `iss` where sent, an error reply),
   * exchanges the code with the client secret and the PKCE verifier, and learns the address.
   * Throws oauth4webapi's errors (classified by libs/errors) or a coded Error of ours.
   */
  async exchangeCode(
    params: URLSearchParams,
    expected: { state: string; codeVerifier: string; nonce: string },
  ): Promise<CodeExchangeResult> {
    const iss = params.get('iss');
    const literal = this.literalIssuers();
    const asForResponse = this.as(iss && literal.includes(iss) ? iss : (literal[0] ?? this.fallbackIssuer()));
    const validated = oauth.validateAuthResponse(asForResponse, this.client, params, expected.state);
    const response = await oauth.authorizationCodeGrantRequest(
      this.as(this.fallbackIssuer()),
      this.client,
      this.auth,
      validated,
      this.redirectUri,
      expected.codeVerifier,
      this.requestOptions(),
    );
    const peek = peekIdToken(await idTokenOf(response));
    const result = await oauth.processAuthorizationCodeResponse(this.as(this.issuerFor(peek)), this.client, response, {
      ...(this.wantsIdToken ? { expectedNonce: expected.nonce, requireIdToken: true } : {}),
    });
    const tokens = this.tokenSet(result);
    if (!tokens.refreshToken) {
      // Without a refresh token the account would die within the hour: refuse it now.
      throw Object.assign(new Error('no refresh token'), { code: OAuthErrorCode.NoRefreshToken });
    }
    const claims = oauth.getValidatedIdTokenClaims(result);
    const address = (await this.addressFrom(claims, tokens.accessToken)) ?? undefined;
    if (!address) throw noAddress();
    return { ...tokens, address };
  }

  /** A new access token for a refresh token (and a new refresh token when the provider rotates). */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const response = await oauth.refreshTokenGrantRequest(
      this.as(this.fallbackIssuer()),
      this.client,
      this.auth,
      refreshToken,
      this.requestOptions(),
    );
    const peek = peekIdToken(await idTokenOf(response));
    return this.tokenSet(await oauth.processRefreshTokenResponse(this.as(this.issuerFor(peek)), this.client, response));
  }

  /** Best effort (RFC 7009), where the provider has a revocation endpoint. */
  async revoke(token: string): Promise<void> {
    if (!this.settings.revokeUrl) return;
    const response = await oauth.revocationRequest(
      this.as(this.fallbackIssuer()),
      this.client,
      this.auth,
      token,
      this.requestOptions(),
    );
    await oauth.processRevocationResponse(response);
  }

  private async addressFrom(claims: oauth.IDToken | undefined, accessToken: string): Promise<string | undefined> {
    const fromIdToken = claims?.email;
    if (typeof fromIdToken === 'string' && EMAIL.test(fromIdToken) && claims?.email_verified !== false) {
      return fromIdToken.toLowerCase();
    }
    if (!this.settings.userinfoUrl) return undefined;
    const response = await oauth.userInfoRequest(
      this.as(this.fallbackIssuer()),
      this.client,
      accessToken,
      this.requestOptions(),
    );
    const info = await oauth.processUserInfoResponse(
      this.as(this.fallbackIssuer()),
      this.client,
      claims?.sub ?? oauth.skipSubjectCheck,
      response,
    );
    return typeof info.email === 'string' && EMAIL.test(info.email) && info.email_verified !== false
      ? info.email.toLowerCase()
      : undefined;
  }

  private tokenSet(r: oauth.TokenEndpointResponse): TokenSet {
    const lifetimeS =
      typeof r.expires_in === 'number' && r.expires_in > 0 ? Math.min(r.expires_in, 86_400) : DEFAULT_LIFETIME_S;
    return {
      accessToken: r.access_token,
      expiresAt: Date.now() + lifetimeS * 1000,
      ...(r.refresh_token ? { refreshToken: r.refresh_token } : {}),
    };
  }

  private literalIssuers(): string[] {
    return (this.settings.issuers ?? []).filter((i) => !i.includes('{tenantid}'));
  }

  /** The configured issuer an ID token claims to come from, its `{tenantid}` filled from `tid`. */
  private issuerFor(peek: { iss?: string; tid?: string }): string {
    for (const pattern of this.settings.issuers ?? []) {
      const candidate =
        pattern.includes('{tenantid}') && peek.tid && /^[0-9a-f-]{36}$/i.test(peek.tid)
          ? pattern.replace('{tenantid}', peek.tid)
          : pattern;
      if (candidate === peek.iss) return candidate;
    }
    return this.settings.issuers?.[0] ?? this.fallbackIssuer();
  }

  private fallbackIssuer(): string {
    return new URL(this.settings.tokenUrl).origin;
  }

  private as(issuer: string): oauth.AuthorizationServer {
    return {
      issuer,
      authorization_endpoint: this.settings.authorizeUrl,
      token_endpoint: this.settings.tokenUrl,
      ...(this.settings.revokeUrl ? { revocation_endpoint: this.settings.revokeUrl } : {}),
      ...(this.settings.userinfoUrl ? { userinfo_endpoint: this.settings.userinfoUrl } : {}),
      id_token_signing_alg_values_supported: ID_TOKEN_ALGS,
    };
  }

  private requestOptions(): { signal: AbortSignal; [oauth.customFetch]: typeof boundedFetch } {
    return { signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS), [oauth.customFetch]: boundedFetch };
  }
}

export function pkcePair(): { verifier: string; challenge: Promise<string> } {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: oauth.calculatePKCECodeChallenge(verifier) };
}

export function randomNonce(): string {
  return oauth.generateRandomNonce();
}
