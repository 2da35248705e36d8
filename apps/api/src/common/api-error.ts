import { HttpException, HttpStatus } from '@nestjs/common';

/** Every error the API sends has this body: `{"error":{"code","message"[,"details"]}}`. */
export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string, details?: unknown) {
    super({ error: { code, message, ...(details !== undefined ? { details } : {}) } }, status);
  }
}

export const notFound = (what: string) => new ApiError(HttpStatus.NOT_FOUND, 'not_found', `${what} not found`);

/** 429 with a Retry-After header (whole seconds) set by the exception filter. */
export class TooManyRequestsError extends ApiError {
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, retryAfterMs: number) {
    super(HttpStatus.TOO_MANY_REQUESTS, code, message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}
