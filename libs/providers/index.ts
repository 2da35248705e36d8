export type {
  OAuthClient,
  OAuthEndpoints,
  Provider,
  ProviderImap,
  ProviderPreset,
  PublicProvider,
  TokenEndpointAuth,
} from './provider.model';
export { BUILTIN_PROVIDERS } from './builtin-providers';
export { parseProvidersFile, providerEntrySchema, type ProviderEntry } from './provider-file.schema';
export { resolveProviders, toPublicProvider, type CatalogInput, type ClientCredentials } from './provider-catalog';
export { ProviderRegistry } from './provider-registry';
