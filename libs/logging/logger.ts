import type { LoggerService } from '@nestjs/common';
import { redact, redactText } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = ORDER.info;
let role = 'mailpush';

export function configureLogging(options: { level: LogLevel; role?: string }): void {
  threshold = ORDER[options.level];
  if (options.role) role = options.role;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function write(level: LogLevel, scope: string, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({
    t: new Date().toISOString(),
    level,
    role,
    scope,
    msg: redactText(msg),
    ...(fields ? (redact(fields) as Record<string, unknown>) : {}),
  });
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
}

/** JSON-lines logger; every field goes through redact(). */
export function createLogger(scope: string): Logger {
  return {
    debug: (msg, fields) => write('debug', scope, msg, fields),
    info: (msg, fields) => write('info', scope, msg, fields),
    warn: (msg, fields) => write('warn', scope, msg, fields),
    error: (msg, fields) => write('error', scope, msg, fields),
  };
}

/** Routes NestJS's own log lines through the same redacting writer. */
export class NestLogger implements LoggerService {
  log(message: unknown, context?: string): void {
    write('info', context ?? 'nest', String(message));
  }
  error(message: unknown, ...rest: unknown[]): void {
    write('error', typeof rest.at(-1) === 'string' ? String(rest.at(-1)) : 'nest', String(message));
  }
  warn(message: unknown, context?: string): void {
    write('warn', context ?? 'nest', String(message));
  }
  debug(message: unknown, context?: string): void {
    write('debug', context ?? 'nest', String(message));
  }
  verbose(message: unknown, context?: string): void {
    write('debug', context ?? 'nest', String(message));
  }
}
