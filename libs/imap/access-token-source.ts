/** An OAuth2 access token for an IMAP login, and when to ask for the next one. */
export interface AccessToken {
  accessToken: string;
  /** ms since epoch. */
  expiresAt: number;
  /** ms since epoch: ask again from here on (expiry less the refresh margin). */
  refreshAt: number;
}

/**
 * Where a watcher of an OAuth2 account gets its access tokens (libs/oauth implements it over the
 * sealed grant in Redis). Failures are thrown as `ClassifiedFailure` (libs/errors): `reauth_required`
 * (an Auth-class failure) when the grant is revoked or expired.
 */
export interface AccessTokenSource {
  /** A token valid beyond the refresh margin; `refused`: the server refused this one, get another. */
  accessToken(refused?: string): Promise<AccessToken>;
}
