import type { ErrorClass } from './error-class';
import { describeErrorCode, type ErrorCode } from './error-code';

export interface ClassifiedError {
  errorClass: ErrorClass;
  /** Machine-readable code from the vocabulary, stable across releases. */
  code: ErrorCode;
  /** Sanitized words safe to log and to show the user: never credentials or message content. */
  message: string;
  /** Server-suggested wait before the next attempt, when it gave one. */
  retryAfterMs?: number;
}

/**
 * A classification whose class is the code's own (from the catalog), so the two cannot disagree.
 * `message` defaults to the catalog's plain words; classifiers pass sanitized detail instead.
 */
export function classified(code: ErrorCode, message?: string, retryAfterMs?: number): ClassifiedError {
  const described = describeErrorCode(code);
  return {
    errorClass: described.errorClass,
    code,
    message: message ?? described.message,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
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
