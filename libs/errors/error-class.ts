/**
 * Every failure that crosses a boundary (IMAP server, push service, network) is mapped to one of
 * these classes through its code (see error-code.ts); retry policy keys off the class, never off text.
 */
export enum ErrorClass {
  /** Credentials rejected or revoked: stop retrying and tell the person. */
  Auth = 'auth',
  /** The provider asked us to slow down: back off for minutes (or as long as it said). */
  RateLimited = 'rate_limited',
  /** Network trouble or a server hiccup: retry soon with jittered backoff. */
  Transient = 'transient',
  /** Will not succeed by retrying (bad request, unsupported server, dead device token). */
  Permanent = 'permanent',
}
