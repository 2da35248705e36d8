export { ErrorClass, type ClassifiedError } from './error-class';
export { classifyImapError } from './imap-error.classifier';
