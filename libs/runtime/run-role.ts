import { ConfigError, loadConfig } from '@mailpush/config';
import { configureLogging, createLogger } from '@mailpush/logging';
import { MasterKeyMismatchError } from '@mailpush/store/master-key-canary';

export type Stop = () => Promise<void>;

/**
 * Entry point shared by every role: validates configuration before anything starts (and exits
 * with a readable list of problems), then stops cleanly on SIGTERM/SIGINT.
 */
export function runRole(role: string, start: () => Promise<Stop>): void {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mailpush ${role}: refusing to start.\n${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  configureLogging({ level: config.logLevel, role });
  const log = createLogger('runtime');
  process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', { err: reason }));

  let stop: Stop | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    void (stop ? stop() : Promise.resolve())
      .catch((err: unknown) => log.error('error during shutdown', { err }))
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  start().then(
    (s) => {
      stop = s;
      if (stopping) void s();
    },
    (err: unknown) => {
      if (err instanceof MasterKeyMismatchError) {
        // A configuration fault, not a crash: exit like a bad variable so no supervisor loops on it.
        process.stderr.write(`mailpush ${role}: refusing to start.\n${err.message}\n`);
        process.exit(78);
      }
      log.error('failed to start', { err });
      process.exit(1);
    },
  );
}
