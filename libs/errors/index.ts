export { ErrorClass } from './error-class';
export { ClassifiedFailure, classified, type ClassifiedError } from './classified-error';
export {
  ErrorCode,
  ERROR_CATALOG,
  classOfHttpStatus,
  describeErrorCode,
  httpStatusCode,
  isNamedErrorCode,
  type ErrorCodeInfo,
  type HttpStatusErrorCode,
} from './error-code';
export {
  classifyNetworkError,
  errorCodeChain,
  isTlsErrorCode,
  networkCodeOf,
  HOST_NOT_ALLOWED_CODE,
} from './network-error.classifier';
export { classifyImapError, WatcherErrorCode } from './imap-error.classifier';
export { classifyOAuthError, OAuthErrorCode } from './oauth-error.classifier';
