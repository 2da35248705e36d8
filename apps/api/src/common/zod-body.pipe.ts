import { HttpStatus, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError } from './api-error';
import { ErrorCode } from '@mailpush/errors';

/** Validates a request body against a zod schema and answers 400 with every problem listed. */
export class ZodBodyPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    const details = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      ErrorCode.InvalidRequest,
      details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; '),
      details,
    );
  }
}
