import { BUILTIN_PROVIDERS, TENANT_PLACEHOLDER } from './builtin-providers';
import type { ProviderEntry } from './provider-file.schema';
import type { OAuthClient, Provider, ProviderPreset, PublicProvider } from './provider.model';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface CatalogInput {
  /** Client credentials from OAUTH_<NAME>_CLIENT_ID / _SECRET, per preset family. */
  clients: Partial<Record<NonNullable<ProviderPreset['credentialsFrom']>, ClientCredentials>>;
  /** OAUTH_MICROSOFT_TENANT: `common`, `organizations`, `consumers` or a tenant id / domain. */
  microsoftTenant: string;
  /** Entries of MAILPUSH_PROVIDERS_FILE, already validated. */
  fileEntries: ProviderEntry[];
}

function fromPreset(preset: ProviderPreset, input: CatalogInput): Provider {
  const credentials = preset.credentialsFrom ? input.clients[preset.credentialsFrom] : undefined;
  let oauth: OAuthClient | undefined;
  if (preset.oauthDefaults && credentials) {
    const tenant = encodeURIComponent(input.microsoftTenant);
    const d = preset.oauthDefaults;
    oauth = {
      ...d,
      authorizeUrl: d.authorizeUrl.replace(TENANT_PLACEHOLDER, tenant),
      tokenUrl: d.tokenUrl.replace(TENANT_PLACEHOLDER, tenant),
      ...credentials,
    };
  }
  return {
    id: preset.id,
    name: preset.name,
    imap: { ...preset.imap },
    ...(preset.hint ? { hint: preset.hint } : {}),
    ...(oauth ? { oauth } : {}),
    source: 'builtin',
  };
}

function fromEntry(entry: ProviderEntry): Provider {
  const o = entry.oauth;
  return {
    id: entry.id,
    name: entry.name,
    imap: entry.imap,
    ...(entry.hint ? { hint: entry.hint } : {}),
    ...(o
      ? {
          oauth: {
            authorizeUrl: o.authorizeUrl,
            tokenUrl: o.tokenUrl,
            clientId: o.clientId,
            clientSecret: o.clientSecret,
            scopes: o.scopes,
            ...(o.revokeUrl ? { revokeUrl: o.revokeUrl } : {}),
            ...(o.userinfoUrl ? { userinfoUrl: o.userinfoUrl } : {}),
            ...(o.extraParams ? { extraParams: o.extraParams } : {}),
            ...(o.issuer !== undefined ? { issuers: Array.isArray(o.issuer) ? o.issuer : [o.issuer] } : {}),
            tokenEndpointAuth: o.tokenEndpointAuth,
          },
        }
      : {}),
    source: 'file',
  };
}

/**
 * The providers in force: the built-ins (with sign-in where the operator gave client
 * credentials), each replaced by a file entry of the same id, then the file's new ids in order.
 */
export function resolveProviders(input: CatalogInput): Provider[] {
  const byId = new Map<string, Provider>();
  for (const preset of BUILTIN_PROVIDERS) byId.set(preset.id, fromPreset(preset, input));
  for (const entry of input.fileEntries) byId.set(entry.id, fromEntry(entry));
  return [...byId.values()];
}

export function toPublicProvider(p: Provider): PublicProvider {
  return { id: p.id, name: p.name, imap: p.imap, oauth: p.oauth !== undefined, ...(p.hint ? { hint: p.hint } : {}) };
}
