import { HttpException, HttpStatus } from '@nestjs/common';
import { ErrorCode } from '@mailpush/errors';

/** Every error the API sends has this body: `{"error":{"code","message"[,"details"]}}`. */
export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: ErrorCode, message: string, details?: unknown) {
    super({ error: { code, message, ...(details !== undefined ? { details } : {}) } }, status);
  }
}

export const notFound = (what: string) => new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NotFound, `${what} not found`);

/** 429 with a Retry-After header (whole seconds) set by the exception filter. */
export class TooManyRequestsError extends ApiError {
  readonly retryAfterSeconds: number;

  constructor(code: ErrorCode, message: string, retryAfterMs: number) {
    super(HttpStatus.TOO_MANY_REQUESTS, code, message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}
