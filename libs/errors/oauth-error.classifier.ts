import { AuthorizationResponseError, OperationProcessingError, ResponseBodyError } from 'oauth4webapi';
import { ClassifiedFailure, ErrorClass, type ClassifiedError } from './error-class';

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
      return {
        errorClass: ErrorClass.Auth,
        code: 'reauth_required',
        message: 'The provider no longer accepts this sign-in (revoked or expired): sign in again',
      };
    }
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      return {
        errorClass: ErrorClass.Permanent,
        code: 'oauth_client_rejected',
        message: "The provider refused this service's OAuth client (operator configuration)",
      };
    }
    if (err.status === 429 || code === 'slow_down') {
      return {
        errorClass: ErrorClass.RateLimited,
        code: 'rate_limited',
        message: 'The sign-in provider asked us to slow down',
      };
    }
    if (err.status >= 500 || code === 'temporarily_unavailable' || code === 'server_error') {
      return {
        errorClass: ErrorClass.Transient,
        code: 'oauth_server_error',
        message: 'The sign-in provider had a temporary problem',
      };
    }
    return {
      errorClass: ErrorClass.Permanent,
      code: 'oauth_refused',
      message: `The sign-in provider refused the request (${/^[a-z_]{1,64}$/.test(code) ? code : 'error'})`,
    };
  }
  if (err instanceof AuthorizationResponseError) {
    return err.error === 'access_denied'
      ? { errorClass: ErrorClass.Auth, code: 'access_denied', message: 'Access was not granted at the provider' }
      : {
          errorClass: ErrorClass.Permanent,
          code: 'oauth_refused',
          message: `The sign-in provider returned an error (${/^[a-z_]{1,64}$/.test(err.error) ? err.error : 'error'})`,
        };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as CodedError;
  if (e.code === OAuthErrorCode.ResponseTooLarge || err instanceof OperationProcessingError) {
    return {
      errorClass: ErrorClass.Transient,
      code: 'oauth_bad_response',
      message: 'The sign-in provider sent a reply we refuse to process',
    };
  }
  if (e.code === OAuthErrorCode.NoAddress) {
    return {
      errorClass: ErrorClass.Permanent,
      code: 'no_address',
      message: 'The provider did not tell us the mailbox address',
    };
  }
  if (e.code === OAuthErrorCode.NoRefreshToken) {
    return {
      errorClass: ErrorClass.Permanent,
      code: 'no_refresh_token',
      message: 'The provider granted no offline access (no refresh token), so the mailbox cannot be watched',
    };
  }
  return {
    errorClass: ErrorClass.Transient,
    code: 'oauth_unreachable',
    message: `Could not reach the sign-in provider${e.name === 'TimeoutError' ? ' in time' : ''}`,
  };
}
