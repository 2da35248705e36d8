import { AuthorizationResponseError, OperationProcessingError, ResponseBodyError } from 'oauth4webapi';
import { ClassifiedFailure, classified, type ClassifiedError } from './classified-error';
import { ErrorCode } from './error-code';

/** Our own failures around an OAuth call (libs/oauth): a reply too large, a reply with no usable address. */
export const OAuthErrorCode = {
  ResponseTooLarge: 'OAuthResponseTooLarge',
  NoAddress: 'OAuthNoAddress',
  NoRefreshToken: 'OAuthNoRefreshToken',
} as const;

interface CodedError {
  code?: unknown;
  name?: unknown;
}

/**
 * The one mapping from OAuth2 failures (authorization server replies, oauth4webapi's checks,
 * network) to error classes. `invalid_grant` means the grant is revoked or expired: only the
 * person can fix it (`reauth_required`). Messages are fixed words, never the server's text.
 */
export function classifyOAuthError(err: unknown): ClassifiedError {
  if (err instanceof ClassifiedFailure) return err.classified;
  if (err instanceof ResponseBodyError) {
    const code = err.error;
    if (code === 'invalid_grant') {
      return classified(
        ErrorCode.ReauthRequired,
        'The provider no longer accepts this sign-in (revoked or expired): sign in again',
      );
    }
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      return classified(
        ErrorCode.OAuthClientRejected,
        "The provider refused this service's OAuth client (operator configuration)",
      );
    }
    if (err.status === 429 || code === 'slow_down') {
      return classified(ErrorCode.RateLimited, 'The sign-in provider asked us to slow down');
    }
    if (err.status >= 500 || code === 'temporarily_unavailable' || code === 'server_error') {
      return classified(ErrorCode.OAuthServerError, 'The sign-in provider had a temporary problem');
    }
    return classified(ErrorCode.OAuthRefused, `The sign-in provider refused the request (${safeOAuthCode(code)})`);
  }
  if (err instanceof AuthorizationResponseError) {
    return err.error === 'access_denied'
      ? classified(ErrorCode.AccessDenied, 'Access was not granted at the provider')
      : classified(ErrorCode.OAuthRefused, `The sign-in provider returned an error (${safeOAuthCode(err.error)})`);
  }
  const field = (key: keyof CodedError): unknown =>
    typeof err === 'object' && err !== null ? Reflect.get(err, key) : undefined;
  if (field('code') === OAuthErrorCode.ResponseTooLarge || err instanceof OperationProcessingError) {
    return classified(ErrorCode.OAuthBadResponse, 'The sign-in provider sent a reply we refuse to process');
  }
  if (field('code') === OAuthErrorCode.NoAddress) {
    return classified(ErrorCode.NoAddress, 'The provider did not tell us the mailbox address');
  }
  if (field('code') === OAuthErrorCode.NoRefreshToken) {
    return classified(
      ErrorCode.NoRefreshToken,
      'The provider granted no offline access (no refresh token), so the mailbox cannot be watched',
    );
  }
  return classified(
    ErrorCode.OAuthUnreachable,
    `Could not reach the sign-in provider${field('name') === 'TimeoutError' ? ' in time' : ''}`,
  );
}

/** The server's error code is echoed only when it looks like one (RFC 6749 codes are lower snake case). */
function safeOAuthCode(code: string): string {
  return /^[a-z_]{1,64}$/.test(code) ? code : 'error';
}
