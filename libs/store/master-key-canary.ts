import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { CredentialCipher, CredentialCipherError } from './credential-cipher';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';

const CANARY_TEXT = 'mailpush master key canary';
const CANARY_OWNER = 'master-key-canary';

/** Replaces the canary only if it still holds what was read. */
const SET_IF_VALUE = new RedisScript(__dirname, 'set-if-value', 1, (reply) => reply.oneOf([0, 1]) === 1);

/** The configured master keys cannot open what this Redis holds: nothing must start. */
export class MasterKeyMismatchError extends Error {
  override name = 'MasterKeyMismatchError';
}

/**
 * A value sealed with the master key at first start and opened at every start, by every role.
 * A wrong or missing key then stops the process with a message that says so, instead of showing up
 * later as a generic login failure retried forever. `npm run reseal-credentials` re-seals it.
 */
@Injectable()
export class MasterKeyCanary implements OnModuleInit {
  private readonly cipher: CredentialCipher;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'masterKeys'>,
  ) {
    this.cipher = new CredentialCipher(config.masterKeys);
  }

  async onModuleInit(): Promise<void> {
    await this.check();
  }

  /** Opens the stored canary, or seals one when there is none yet. */
  async check(): Promise<'created' | 'opened'> {
    const key = RedisKeys.masterKeyCanary();
    const stored = await this.redis.get(key);
    if (stored) {
      this.open(stored);
      return 'opened';
    }
    await this.sampleStoredCredential();
    const created = await this.redis.set(key, this.cipher.seal(CANARY_TEXT, CANARY_OWNER), 'NX');
    if (created !== 'OK') {
      // Another process sealed it meanwhile: it must open with our keys too.
      this.open((await this.redis.get(key)) ?? '');
      return 'opened';
    }
    return 'created';
  }

  /** Re-seals the canary under the newest key (after a rotation); compare-and-set. */
  async reseal(): Promise<'resealed' | 'current'> {
    const key = RedisKeys.masterKeyCanary();
    const stored = await this.redis.get(key);
    if (stored && !this.cipher.needsRotation(stored)) return 'current';
    if (stored) this.open(stored);
    const swapped = await SET_IF_VALUE.run(
      this.redis,
      [key],
      [stored ?? '', this.cipher.seal(CANARY_TEXT, CANARY_OWNER)],
    );
    return swapped ? 'resealed' : 'current';
  }

  private open(sealed: string): void {
    const version = sealed.split('.')[0] || 'unknown';
    let text: string | undefined;
    let reason = 'it does not decrypt with the configured key of that version (wrong key)';
    try {
      text = this.cipher.open(sealed, CANARY_OWNER);
    } catch (err) {
      if (err instanceof CredentialCipherError && /is not configured/.test(err.message)) {
        reason = 'no key of that version is configured';
      } else if (!(err instanceof CredentialCipherError)) throw err;
    }
    if (text === CANARY_TEXT) return;
    throw new MasterKeyMismatchError(
      `MAILPUSH_MASTER_KEY cannot open the credentials stored in this Redis: its key canary was sealed with key ${version}, and ${reason}. ` +
        'Start with the key list the data was sealed with (newest first); after adding a new key, run `npm run reseal-credentials` before removing the old one.',
    );
  }

  /** First start against a Redis that already holds credentials (an upgrade): they must open with our keys. */
  private async sampleStoredCredential(): Promise<void> {
    const accountId = await this.redis.srandmember(RedisKeys.allAccounts());
    if (typeof accountId !== 'string') return;
    const sealed = await this.redis.hget(RedisKeys.account(accountId), 'credentials');
    if (!sealed) return;
    try {
      this.cipher.open(sealed, accountId);
    } catch (err) {
      if (!(err instanceof CredentialCipherError)) throw err;
      throw new MasterKeyMismatchError(
        `MAILPUSH_MASTER_KEY cannot open the credentials stored in this Redis (${err.message}). ` +
          'Start with the key list the data was sealed with (newest first).',
      );
    }
  }
}
