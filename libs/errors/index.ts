export { ErrorClass, ClassifiedFailure, type ClassifiedError } from './error-class';
export { classifyImapError, WatcherErrorCode } from './imap-error.classifier';
export { classifyOAuthError, OAuthErrorCode } from './oauth-error.classifier';
