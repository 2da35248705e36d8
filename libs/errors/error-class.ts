/**
 * Every failure that crosses a boundary (IMAP server, push service, network) is mapped to one of
 * these classes by a classifier in this folder; retry policy keys off the class, never off text.
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

export interface ClassifiedError {
  errorClass: ErrorClass;
  /** Machine-readable code, stable across releases (e.g. `auth_failed`, `tls_failed`, `unregistered`). */
  code: string;
  /** Sanitized words safe to log and to show the user: never credentials or message content. */
  message: string;
  /** Server-suggested wait before the next attempt, when it gave one. */
  retryAfterMs?: number;
}

/**
 * A failure already classified where it happened (e.g. by the OAuth classifier inside a token
 * source), carried through layers that must not know its origin.
 */
export class ClassifiedFailure extends Error {
  override readonly name = 'ClassifiedFailure';

  constructor(readonly classified: ClassifiedError) {
    super(classified.message);
  }
}
