import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config';
import { CredentialCipher } from './credential-cipher';
import { newId } from './ids';
import { reserveQuotaPlace } from './quota';
import type {
  Account,
  AccountOptions,
  AccountStatus,
  AccountStatusUpdate,
  ImapEndpoint,
  MailboxCursor,
} from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

export interface NewAccount {
  email: string;
  imap: ImapEndpoint;
  username: string;
  password: string;
  options?: Partial<AccountOptions>;
}

export interface AccountCredentials {
  username: string;
  password: string;
  /** See `Account.credentialsVersion`. */
  version: number;
}

/** What the worker writes about a live connection: never over `disabled`, never for older credentials. */
const SET_STATUS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'status') == 'disabled' then return 0 end
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], 'credentialsVersion') or '0') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do
  if ARGV[i+1] == '\\0del' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
end
return 1`;

/** Replaces the sealed credentials; a disabled account stays disabled, any other goes back to connecting. */
const REPLACE_CREDENTIALS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'credentials', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'credentialsVersion', 1)
redis.call('HDEL', KEYS[1], 'lastError', 'nextAttemptAt', 'alert')
if redis.call('HGET', KEYS[1], 'status') ~= 'disabled' then redis.call('HSET', KEYS[1], 'status', 'connecting') end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1`;

const SET_ENABLED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if ARGV[1] == 'disable' then
  redis.call('HSET', KEYS[1], 'status', 'disabled')
  redis.call('HDEL', KEYS[1], 'nextAttemptAt')
elseif status == 'disabled' then
  redis.call('HSET', KEYS[1], 'status', 'connecting')
end
redis.call('PUBLISH', KEYS[2], ARGV[2])
return 1`;

const CREDENTIALS_FIELD = 'credentials';

function toAccount(h: Record<string, string>): Account | null {
  if (!h.id || !h.userId || !h.email || !h.host || !h.port || !h.createdAt) return null;
  return {
    id: h.id,
    userId: h.userId,
    email: h.email,
    provider: 'imap',
    imap: { host: h.host, port: Number(h.port), tls: h.tls === 'true' },
    username: h.username ?? h.email,
    options: { notifySeen: h.notifySeen === 'true' },
    status: (h.status as AccountStatus | undefined) ?? 'connecting',
    ...(h.lastError ? { lastError: h.lastError } : {}),
    ...(h.nextAttemptAt ? { nextAttemptAt: h.nextAttemptAt } : {}),
    ...(h.lastEventAt ? { lastEventAt: h.lastEventAt } : {}),
    ...(h.alert ? { alert: h.alert } : {}),
    credentialsVersion: Number(h.credentialsVersion ?? '0'),
    createdAt: h.createdAt,
  };
}

@Injectable()
export class AccountRepository {
  private readonly cipher: CredentialCipher;
  private readonly maxPerUser: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cipher = new CredentialCipher(config.masterKeys);
    this.maxPerUser = config.limits.accountsPerUser;
  }

  /** How many mailboxes the user has linked (the quota is enforced atomically in create). */
  async countForUser(userId: string): Promise<number> {
    return this.redis.scard(RedisKeys.userAccounts(userId));
  }

  /**
   * Stores the account with its password sealed (AES-256-GCM, bound to the account id) and its
   * starting cursor in one transaction: mail after the link is notified, history before it is not.
   * Throws QuotaExceededError when the user has MAILPUSH_MAX_ACCOUNTS_PER_USER mailboxes already.
   */
  async create(userId: string, input: NewAccount, initialCursor: MailboxCursor): Promise<Account> {
    const id = newId('acc');
    const account: Account = {
      id,
      userId,
      email: input.email,
      provider: 'imap',
      imap: input.imap,
      username: input.username,
      options: { notifySeen: input.options?.notifySeen ?? false },
      status: 'connecting',
      credentialsVersion: 0,
      createdAt: new Date().toISOString(),
    };
    const sealed = this.cipher.seal(JSON.stringify({ password: input.password }), id);
    const place = { user: RedisKeys.user(userId), set: RedisKeys.userAccounts(userId) };
    await reserveQuotaPlace(this.redis, place, id, { kind: 'mailboxes', max: this.maxPerUser });
    await this.redis
      .multi()
      .hset(RedisKeys.account(id), {
        id,
        userId,
        email: account.email,
        host: input.imap.host,
        port: String(input.imap.port),
        tls: String(input.imap.tls),
        username: input.username,
        notifySeen: String(account.options.notifySeen),
        status: account.status,
        createdAt: account.createdAt,
        [CREDENTIALS_FIELD]: sealed,
      })
      .hset(RedisKeys.cursor(id), {
        uidValidity: String(initialCursor.uidValidity),
        lastUid: String(initialCursor.lastUid),
      })
      .sadd(RedisKeys.userAccounts(userId), id)
      .sadd(RedisKeys.allAccounts(), id)
      .publish(RedisKeys.accountsChannel(), id)
      .exec()
      .catch(async (err: unknown) => {
        await this.redis.srem(place.set, id).catch(() => 0);
        throw err;
      });
    return account;
  }

  async find(accountId: string): Promise<Account | null> {
    return toAccount(await this.redis.hgetall(RedisKeys.account(accountId)));
  }

  async findForUser(userId: string, accountId: string): Promise<Account | null> {
    const account = await this.find(accountId);
    return account && account.userId === userId ? account : null;
  }

  async listForUser(userId: string): Promise<Account[]> {
    const ids = await this.redis.smembers(RedisKeys.userAccounts(userId));
    const accounts = await Promise.all(ids.map((id) => this.find(id)));
    return accounts.filter((a): a is Account => a !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** How many accounts are in each status, over every account (one pipelined round trip). */
  async statusCounts(): Promise<Partial<Record<AccountStatus, number>>> {
    const ids = await this.allIds();
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(RedisKeys.account(id), 'status');
    const counts: Partial<Record<AccountStatus, number>> = {};
    for (const [, status] of (await pipeline.exec()) ?? []) {
      if (typeof status === 'string') counts[status as AccountStatus] = (counts[status as AccountStatus] ?? 0) + 1;
    }
    return counts;
  }

  async allIds(): Promise<string[]> {
    return this.redis.smembers(RedisKeys.allAccounts());
  }

  async credentials(accountId: string): Promise<AccountCredentials | null> {
    const [username, sealed, version] = await this.redis.hmget(
      RedisKeys.account(accountId),
      'username',
      CREDENTIALS_FIELD,
      'credentialsVersion',
    );
    if (!username || !sealed) return null;
    const { password } = JSON.parse(this.cipher.open(sealed, accountId)) as { password: string };
    return { username, password, version: Number(version ?? '0') };
  }

  /** New credentials (already verified against the server): workers reconnect with them. */
  /**
   * Re-seals an account's credentials under the newest master key (after a key rotation), unless
   * they already use it. Compare-and-set: a password changed meanwhile is left as it is.
   */
  async resealCredentials(accountId: string): Promise<'resealed' | 'current' | 'missing'> {
    const sealed = await this.redis.hget(RedisKeys.account(accountId), CREDENTIALS_FIELD);
    if (!sealed) return 'missing';
    if (!this.cipher.needsRotation(sealed)) return 'current';
    const resealed = this.cipher.seal(this.cipher.open(sealed, accountId), accountId);
    const swapped = await this.redis.eval(
      `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end return 0`,
      1,
      RedisKeys.account(accountId),
      CREDENTIALS_FIELD,
      sealed,
      resealed,
    );
    return swapped === 1 ? 'resealed' : 'current';
  }

  async replaceCredentials(
    userId: string,
    accountId: string,
    username: string,
    password: string,
  ): Promise<Account | null> {
    if (!(await this.findForUser(userId, accountId))) return null;
    const sealed = this.cipher.seal(JSON.stringify({ password }), accountId);
    await this.redis.eval(
      REPLACE_CREDENTIALS,
      2,
      RedisKeys.account(accountId),
      RedisKeys.accountsChannel(),
      username,
      sealed,
      accountId,
    );
    return this.find(accountId);
  }

  /** `disabled` is the person's choice: no worker holds the account until it is enabled again. */
  async setEnabled(userId: string, accountId: string, enabled: boolean): Promise<Account | null> {
    if (!(await this.findForUser(userId, accountId))) return null;
    await this.redis.eval(
      SET_ENABLED,
      2,
      RedisKeys.account(accountId),
      RedisKeys.accountsChannel(),
      enabled ? 'enable' : 'disable',
      accountId,
    );
    return this.find(accountId);
  }

  /** Deletes the account and erases its credentials, cursor and lease; workers are told at once. */
  async remove(userId: string, accountId: string): Promise<boolean> {
    const account = await this.findForUser(userId, accountId);
    if (!account) return false;
    await this.redis
      .multi()
      .del(RedisKeys.account(accountId), RedisKeys.cursor(accountId), RedisKeys.leaseFence(accountId))
      .srem(RedisKeys.userAccounts(userId), accountId)
      .srem(RedisKeys.allAccounts(), accountId)
      .publish(RedisKeys.accountsChannel(), accountId)
      .exec();
    return true;
  }

  /**
   * Updates live status as a worker sees it; a no-op for an account deleted meanwhile (never
   * resurrects a hash), for a disabled one, and, when `credentialsVersion` is given, for one whose
   * credentials were replaced since (a late auth failure must not mark new credentials bad).
   */
  async setStatus(accountId: string, update: AccountStatusUpdate, credentialsVersion?: number): Promise<boolean> {
    const set: Record<string, string> = { status: update.status };
    const del: string[] = [];
    for (const field of ['lastError', 'nextAttemptAt', 'alert'] as const) {
      const v = update[field];
      if (typeof v === 'string') set[field] = v;
      else if (v === null) del.push(field);
    }
    const applied = await this.redis.eval(
      SET_STATUS,
      1,
      RedisKeys.account(accountId),
      credentialsVersion === undefined ? '' : String(credentialsVersion),
      ...Object.entries(set).flat(),
      ...del.flatMap((f) => [f, '\0del']),
    );
    return applied === 1;
  }

  async touchLastEvent(accountId: string, at: Date = new Date()): Promise<void> {
    await this.redis.eval(
      `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'lastEventAt', ARGV[1]) end return 1`,
      1,
      RedisKeys.account(accountId),
      at.toISOString(),
    );
  }
}
