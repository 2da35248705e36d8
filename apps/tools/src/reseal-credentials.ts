import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { ConfigError, ConfigModule, loadConfig } from '@mailpush/config';
import { AccountRepository, DeviceRepository, MasterKeyCanary, StoreModule } from '@mailpush/store';

@Module({ imports: [ConfigModule, StoreModule] })
class ToolsModule {}

/**
 * After adding a new master key in front of MAILPUSH_MASTER_KEY, re-seals every stored credential,
 * device token and the key canary with it, so that the old key can then be removed from the list. Safe to run while mailpush runs
 * and to run again.
 */
async function main(): Promise<number> {
  try {
    loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`reseal-credentials: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const app = await NestFactory.createApplicationContext(ToolsModule, { logger: false });
  try {
    const accounts = app.get(AccountRepository);
    const ids = await accounts.allIds();
    const counts = { resealed: 0, current: 0, missing: 0, failed: 0 };
    process.stdout.write(`re-sealing the credentials of ${ids.length} accounts with the newest master key…\n`);
    for (const [i, id] of ids.entries()) {
      try {
        counts[await accounts.resealCredentials(id)] += 1;
      } catch (err) {
        counts.failed += 1;
        process.stderr.write(`  ${id}: ${err instanceof Error ? err.message : 'failed'}\n`);
      }
      if ((i + 1) % 500 === 0) process.stdout.write(`  ${i + 1}/${ids.length}\n`);
    }
    process.stdout.write(
      `done: ${counts.resealed} re-sealed, ${counts.current} already current, ${counts.missing} without credentials, ${counts.failed} failed\n`,
    );
    const tokens = await app.get(DeviceRepository).resealTokens();
    process.stdout.write(
      `device tokens: ${tokens.resealed} re-sealed, ${tokens.current} already current, ${tokens.failed} failed\n`,
    );
    if (counts.failed > 0 || tokens.failed > 0) {
      process.stdout.write('the key canary stays sealed with the old key until everything re-seals\n');
      return 1;
    }
    // Last: once the canary needs only the new key, the old one may be removed from the list.
    process.stdout.write(`key canary: ${await app.get(MasterKeyCanary).reseal()}\n`);
    return 0;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reseal-credentials: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
