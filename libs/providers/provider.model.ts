/** Where a provider's mailboxes are read. An empty host means the person types their server's name. */
export interface ProviderImap {
  host: string;
  port: number;
  tls: boolean;
}

/** How the client authenticates at the token endpoint (RFC 6749 2.3.1: both must be supported by servers). */
export type TokenEndpointAuth = 'client_secret_post' | 'client_secret_basic';

/** An OAuth2 authorization server as a provider preset knows it: everything but the client credentials. */
export interface OAuthEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  /** Scopes for IMAP access, a refresh token (offline access) and the mailbox address. */
  scopes: string[];
  revokeUrl?: string;
  userinfoUrl?: string;
  /** Added to the authorization request (e.g. Google's `access_type=offline`). */
  extraParams?: Record<string, string>;
  /**
   * Accepted `iss` values of the ID token; `{tenantid}` stands for the token's own `tid` claim
   * (Microsoft's multi-tenant endpoints). Required when the scopes include `openid`.
   */
  issuers?: string[];
  tokenEndpointAuth: TokenEndpointAuth;
}

export interface OAuthClient extends OAuthEndpoints {
  clientId: string;
  clientSecret: string;
}

/** A provider as the running system uses it: `oauth` only when the operator configured a client for it. */
export interface Provider {
  id: string;
  name: string;
  imap: ProviderImap;
  hint?: string;
  oauth?: OAuthClient;
  /** Built in, or from MAILPUSH_PROVIDERS_FILE (operator data: its IMAP host may be on a private network). */
  source: 'builtin' | 'file';
}

/** A built-in preset: OAuth settings are defaults that need client credentials from the environment. */
export interface ProviderPreset {
  id: string;
  name: string;
  imap: ProviderImap;
  hint?: string;
  oauthDefaults?: OAuthEndpoints;
  /** Which OAUTH_<NAME>_* variables turn this preset's sign-in on. */
  credentialsFrom?: 'google' | 'microsoft' | 'yahoo';
}

/** What `GET /v1/providers` shows of a provider: never a client id or secret. */
export interface PublicProvider {
  id: string;
  name: string;
  imap: ProviderImap;
  oauth: boolean;
  hint?: string;
}
