import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ErrorCode } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import { OwnerGoneError, QuotaExceededError } from '@mailpush/store';
import { TooManyRequestsError } from './api-error';

const log = createLogger('api');

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.InvalidRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
};

/** Maps everything (including body-parser and routing errors) to the JSON error shape; 500s are logged, never explained. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof TooManyRequestsError) res.setHeader('retry-after', String(exception.retryAfterSeconds));
    if (exception instanceof QuotaExceededError) {
      res.status(HttpStatus.UNPROCESSABLE_ENTITY).json({ error: { code: exception.code, message: exception.message } });
      return;
    }
    if (exception instanceof OwnerGoneError) {
      res.status(HttpStatus.NOT_FOUND).json({ error: { code: ErrorCode.NotFound, message: 'User not found' } });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object') {
        res.status(status).json(body);
        return;
      }
      const message =
        typeof body === 'string' ? body : (('message' in body ? body.message : undefined) ?? exception.message);
      res.status(status).json({
        error: {
          code: CODE_BY_STATUS[status] ?? ErrorCode.Unspecified,
          message: Array.isArray(message) ? message.join('; ') : String(message),
        },
      });
      return;
    }
    const { status, type } = fieldsOf(exception);
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser errors (malformed JSON, too large, bad charset) carry a status and a type.
      const message =
        type === 'entity.parse.failed'
          ? 'The request body is not valid JSON'
          : type === 'entity.too.large'
            ? 'The request body is too large'
            : 'Bad request';
      res.status(status).json({ error: { code: CODE_BY_STATUS[status] ?? ErrorCode.InvalidRequest, message } });
      return;
    }
    log.error('unhandled error', { err: exception });
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ error: { code: ErrorCode.InternalError, message: 'Something went wrong on our side' } });
  }
}

/** What the filter reads of anything else thrown (body-parser's errors carry both); anything may be thrown. */
const thrownFields = z.object({ status: z.unknown(), type: z.unknown() });

function fieldsOf(thrown: unknown): { status?: unknown; type?: unknown } {
  const parsed = thrownFields.safeParse(thrown);
  return parsed.success ? parsed.data : {};
}
