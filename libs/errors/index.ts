export { ErrorClass, type ClassifiedError } from './error-class';
export { classifyImapError, WatcherErrorCode } from './imap-error.classifier';
