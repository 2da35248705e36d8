import type { z } from 'zod';

/**
 * A value read back from Redis is not what the relay writes (corrupt, or written by something
 * else). The message names what was read, never the value: it may hold a sealed secret.
 */
export class StoredValueError extends Error {
  override name = 'StoredValueError';

  constructor(readonly what: string) {
    super(`stored ${what} is unreadable`);
  }
}

/** JSON read from storage, checked against its schema; undefined when it is not JSON or not that shape. */
export function readStoredJson<T>(schema: z.ZodType<T>, raw: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** As `readStoredJson`, for a value that must be readable: throws StoredValueError naming `what`. */
export function requireStoredJson<T>(schema: z.ZodType<T>, raw: string, what: string): T {
  const value = readStoredJson(schema, raw);
  if (value === undefined) throw new StoredValueError(what);
  return value;
}
