export {
  OAuthProviderClient,
  pkcePair,
  randomNonce,
  type TokenSet,
  type CodeExchangeResult,
} from './oauth-provider.client';
export { GrantTokenSource, type GrantTokenSourceDeps } from './access-token.source';
export { TokenSourceFactory } from './token-source.factory';
export { boundedFetch, MAX_OAUTH_RESPONSE_BYTES } from './bounded-fetch';
