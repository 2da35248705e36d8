import { z } from 'zod';

/** Parameters the flow itself sets: a file's `extraParams` may not replace them. */
export const RESERVED_AUTHORIZE_PARAMS: ReadonlySet<string> = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
]);

const MAX_FILE_BYTES = 256 * 1024;
const MAX_PROVIDERS = 100;

const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(|\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/,
    'must be a host name or IP address (or empty: the person types it)',
  );

/** Endpoints the server calls (token, revoke, userinfo) come from here only, never from a request: https. */
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https URL' }).max(2048);

const oauthEntry = z
  .strictObject({
    authorizeUrl: httpsUrl,
    tokenUrl: httpsUrl,
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(1024),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/, 'must be a scope token (RFC 6749 3.3)'))
      .min(1)
      .max(32),
    revokeUrl: httpsUrl.optional(),
    userinfoUrl: httpsUrl.optional(),
    extraParams: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.string().max(512)).optional(),
    issuer: z.union([z.string().min(1).max(512), z.array(z.string().min(1).max(512)).min(1).max(8)]).optional(),
    tokenEndpointAuth: z.enum(['client_secret_post', 'client_secret_basic']).default('client_secret_post'),
  })
  .superRefine((o, ctx) => {
    for (const key of Object.keys(o.extraParams ?? {})) {
      if (RESERVED_AUTHORIZE_PARAMS.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['extraParams', key], message: 'is set by the flow itself' });
      }
    }
    if (o.scopes.includes('openid') && o.issuer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message: 'is required with the openid scope (the ID token is checked against it)',
      });
    }
    if (!o.scopes.includes('openid') && o.userinfoUrl === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scopes'],
        message: 'needs openid (and email) or a userinfoUrl: the mailbox address must come from the provider',
      });
    }
  });

export const providerEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or dashes'),
  name: z.string().trim().min(1).max(64),
  imap: z.strictObject({
    host: hostname,
    port: z.number().int().min(1).max(65535).default(993),
    tls: z.boolean().default(true),
  }),
  hint: z.string().max(300).optional(),
  oauth: oauthEntry.optional(),
});

export type ProviderEntry = z.output<typeof providerEntrySchema>;

const providersFileSchema = z.strictObject({
  providers: z.array(providerEntrySchema).max(MAX_PROVIDERS),
});

/**
 * Parses MAILPUSH_PROVIDERS_FILE's text: every problem is listed (with the entry's index and
 * field), and nothing is returned unless the whole file is sound. Problems never quote values.
 */
export function parseProvidersFile(text: string): { entries: ProviderEntry[]; problems: string[] } {
  if (Buffer.byteLength(text, 'utf8') > MAX_FILE_BYTES) {
    return { entries: [], problems: [`larger than ${MAX_FILE_BYTES / 1024} KB`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { entries: [], problems: ['not valid JSON'] };
  }
  const parsed = providersFileSchema.safeParse(json);
  if (!parsed.success) {
    return {
      entries: [],
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`),
    };
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  parsed.data.providers.forEach((entry, i) => {
    if (seen.has(entry.id)) problems.push(`providers.${i}.id: "${entry.id}" is listed twice`);
    seen.add(entry.id);
  });
  return problems.length > 0 ? { entries: [], problems } : { entries: parsed.data.providers, problems };
}
