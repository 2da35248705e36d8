import { z } from 'zod';

const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/,
    'must be a host name or IP address',
  );

export const createAccountSchema = z.strictObject({
  email: z.email().max(254),
  provider: z.literal('imap').default('imap'),
  imap: z.strictObject({
    host: hostname,
    port: z.number().int().min(1).max(65535).default(993),
    tls: z.boolean().default(true),
  }),
  auth: z.strictObject({
    type: z.literal('password'),
    username: z.string().min(1).max(320),
    password: z.string().min(1).max(1024),
  }),
  options: z
    .strictObject({
      notifySeen: z.boolean().default(false),
    })
    .default({ notifySeen: false }),
});

export type CreateAccountBody = z.output<typeof createAccountSchema>;

/** New credentials for an existing account (after `auth_error`, or a password change). */
export const replaceCredentialsSchema = z.strictObject({
  auth: z.strictObject({
    type: z.literal('password'),
    /** Defaults to the current username. */
    username: z.string().min(1).max(320).optional(),
    password: z.string().min(1).max(1024),
  }),
});

export type ReplaceCredentialsBody = z.output<typeof replaceCredentialsSchema>;
