export { createLogger, configureLogging, NestLogger, type Logger, type LogLevel } from './logger';
export { redact, redactText } from './redact';
