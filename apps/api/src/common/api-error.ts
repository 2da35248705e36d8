import { HttpException, HttpStatus } from '@nestjs/common';

/** Every error the API sends has this body: `{"error":{"code","message"[,"details"]}}`. */
export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string, details?: unknown) {
    super({ error: { code, message, ...(details !== undefined ? { details } : {}) } }, status);
  }
}

export const notFound = (what: string) => new ApiError(HttpStatus.NOT_FOUND, 'not_found', `${what} not found`);
