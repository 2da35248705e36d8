import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { CredentialCipher } from './credential-cipher';
import { newId } from './ids';
import { assertOwnerExists, reserveQuotaPlace } from './quota';
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
import { RedisScript, type ScriptReply } from './redis-script';
import { slotOf } from './slots';
import { isAccountStatus } from './stored-fields';
import { readStoredJson, requireStoredJson } from './stored-value';

/** An OAuth2 grant as stored: the refresh token sealed like a password, the access token beside it. */
export interface OAuthGrantInput {
  provider: string;
  refreshToken: string;
  access: OAuthAccess;
}

export interface OAuthAccess {
  accessToken: string;
  /** ms since epoch. */
  expiresAt: number;
}

export interface NewAccount {
  email: string;
  imap: ImapEndpoint;
  username: string;
  /** Exactly one of `password` and `oauth`. */
  password?: string;
  oauth?: OAuthGrantInput;
  options?: Partial<AccountOptions>;
}

export type AccountCredentials =
  | {
      kind: 'password';
      username: string;
      password: string;
      /** See `Account.credentialsVersion`. */
      version: number;
    }
  | { kind: 'oauth2'; username: string; provider: string; refreshToken: string; version: number };

/** What a token source reads: the grant, the cached access token, and the sealed blob for compare-and-set. */
export interface StoredOAuthGrant {
  provider: string;
  refreshToken: string;
  version: number;
  sealed: string;
  access?: OAuthAccess;
}

type SealedSecret = { password: string } | { kind: 'oauth2'; provider: string; refreshToken: string };

const sealedSecretSchema: z.ZodType<SealedSecret> = z.union([
  z.object({ password: z.string() }),
  z.object({ kind: z.literal('oauth2'), provider: z.string(), refreshToken: z.string() }),
]);

const oauthAccessSchema: z.ZodType<OAuthAccess> = z.object({ accessToken: z.string(), expiresAt: z.number() });

/** Replies of the scripts that change an account: done, or the account is gone (0). */
const applied = (reply: ScriptReply): boolean => reply.oneOf([0, 1]) === 1;
/** Replies of the scripts that always apply. */
const done = (reply: ScriptReply): void => {
  reply.oneOf([1]);
};

/** What the worker writes about a live connection: never over `disabled`, never for older credentials. */
const SET_STATUS = new RedisScript(__dirname, 'account-set-status', 1, applied);
const TOUCH_LAST_EVENT = new RedisScript(__dirname, 'touch-last-event', 1, applied);

/*
 * Every change a worker must act on bumps the slot's version and publishes `<version>:<accountId>`
 * on the slot's channel, in the same script: the slot's owner hears of it at once, and one that
 * missed the message sees the version moved at its next reconcile. These scripts take the account
 * and its slot's version as their first KEYS, the account id and the channel as their first ARGV
 * (see `notifying`).
 */
const CREATE = new RedisScript(__dirname, 'account-create', 4, done);
const REMOVE = new RedisScript(__dirname, 'account-remove', 4, done);
const REPLACE_CREDENTIALS = new RedisScript(__dirname, 'account-replace-credentials', 2, applied);
const SET_ENABLED = new RedisScript(__dirname, 'account-set-enabled', 2, applied);
const NOTIFY_ONLY = new RedisScript(__dirname, 'notify-slot', 2, done);

/** Consumes a Reconnect link session (its own hash tag) if it still names the account: true for the one caller that did. */
const CONSUME_LINK = new RedisScript(__dirname, 'consume-reconnect-link', 2, (reply) => reply.oneOf([1, -1]) === 1);

/** A refreshed grant, written only while the account still holds the same credentials (version and grant). */
const STORE_REFRESHED = new RedisScript(__dirname, 'store-refreshed-grant', 1, applied);

/** Re-sealed credentials, written only while the account holds the sealed ones read. */
const SET_FIELD_IF_VALUE = new RedisScript(__dirname, 'set-hash-field-if-value', 1, applied);

/** Keys and leading arguments of a script that changes one account and notifies its slot. */
function notifying(accountId: string, ...more: string[]): { keys: string[]; args: string[] } {
  const slot = slotOf(accountId);
  return {
    keys: [RedisKeys.account(accountId), RedisKeys.slotVersion(slot), ...more],
    args: [accountId, RedisKeys.slotChannel(slot)],
  };
}

const CREDENTIALS_FIELD = 'credentials';
const ACCESS_FIELD = 'oauthAccess';
/** The access token is sealed apart from the grant, under its own associated data. */
const accessAad = (accountId: string) => `${accountId}#access`;

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
    status: h.status && isAccountStatus(h.status) ? h.status : 'connecting',
    ...(h.lastError ? { lastError: h.lastError } : {}),
    ...(h.nextAttemptAt ? { nextAttemptAt: h.nextAttemptAt } : {}),
    ...(h.lastEventAt ? { lastEventAt: h.lastEventAt } : {}),
    ...(h.alert ? { alert: h.alert } : {}),
    authType: h.authType === 'oauth2' ? 'oauth2' : 'password',
    ...(h.authType === 'oauth2' && h.oauthProvider ? { oauthProvider: h.oauthProvider } : {}),
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
    const secret: SealedSecret | undefined = input.oauth
      ? { kind: 'oauth2', provider: input.oauth.provider, refreshToken: input.oauth.refreshToken }
      : input.password !== undefined
        ? { password: input.password }
        : undefined;
    if (!secret || (input.oauth && input.password !== undefined)) {
      throw new Error('an account needs exactly one of a password and an OAuth2 grant');
    }
    const account: Account = {
      id,
      userId,
      email: input.email,
      provider: 'imap',
      imap: input.imap,
      username: input.username,
      authType: input.oauth ? 'oauth2' : 'password',
      ...(input.oauth ? { oauthProvider: input.oauth.provider } : {}),
      options: { notifySeen: input.options?.notifySeen ?? false },
      status: 'connecting',
      credentialsVersion: 0,
      createdAt: new Date().toISOString(),
    };
    const sealed = this.cipher.seal(JSON.stringify(secret), id);
    const fields: Record<string, string> = {
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
      authType: account.authType,
      ...(input.oauth
        ? {
            oauthProvider: input.oauth.provider,
            [ACCESS_FIELD]: this.cipher.seal(JSON.stringify(input.oauth.access), accessAad(id)),
          }
        : {}),
      [CREDENTIALS_FIELD]: sealed,
    };
    // Three single-slot steps on a Redis Cluster: a place in the user's set (the quota, which also
    // indexes the account), then the account, its cursor and its slot's set in one script, then
    // the global index. A failed create gives its place back.
    await assertOwnerExists(this.redis, userId);
    await reserveQuotaPlace(this.redis, RedisKeys.userAccounts(userId), id, {
      kind: 'mailboxes',
      max: this.maxPerUser,
    });
    const { keys, args } = notifying(id, RedisKeys.cursor(id), RedisKeys.slotAccounts(slotOf(id)));
    try {
      await CREATE.run(this.redis, keys, [
        ...args,
        initialCursor.uidValidity,
        initialCursor.lastUid,
        ...Object.entries(fields).flat(),
      ]);
    } catch (err) {
      await this.redis.srem(RedisKeys.userAccounts(userId), id).catch(() => 0);
      throw err;
    }
    await this.redis.sadd(RedisKeys.allAccounts(), id);
    try {
      await assertOwnerExists(this.redis, userId);
    } catch (err) {
      // Erased while this was written: nothing of it may stay behind.
      await this.remove(userId, id);
      throw err;
    }
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
    // Auto-pipelined: one round trip per server (an explicit pipeline cannot span cluster slots).
    const statuses = await Promise.all(ids.map((id) => this.redis.hget(RedisKeys.account(id), 'status')));
    const counts: Partial<Record<AccountStatus, number>> = {};
    for (const status of statuses) {
      if (status && isAccountStatus(status)) counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  async allIds(): Promise<string[]> {
    return this.redis.smembers(RedisKeys.allAccounts());
  }

  /** Ids of one slot's accounts: all a worker reads to learn what it watches. */
  async idsInSlot(slot: number): Promise<string[]> {
    return this.redis.smembers(RedisKeys.slotAccounts(slot));
  }

  /** The slot's change counter (see `notifying`); null before its first change. */
  async slotVersion(slot: number): Promise<string | null> {
    return this.redis.get(RedisKeys.slotVersion(slot));
  }

  async credentials(accountId: string): Promise<AccountCredentials | null> {
    const [username, sealed, version] = await this.redis.hmget(
      RedisKeys.account(accountId),
      'username',
      CREDENTIALS_FIELD,
      'credentialsVersion',
    );
    if (!username || !sealed) return null;
    const secret = this.openSecret(sealed, accountId);
    const v = Number(version ?? '0');
    return 'password' in secret
      ? { kind: 'password', username, password: secret.password, version: v }
      : { kind: 'oauth2', username, provider: secret.provider, refreshToken: secret.refreshToken, version: v };
  }

  /** The account's OAuth2 grant and cached access token, or null for a password account (or none). */
  async oauthGrant(accountId: string): Promise<StoredOAuthGrant | null> {
    const [sealed, version, sealedAccess] = await this.redis.hmget(
      RedisKeys.account(accountId),
      CREDENTIALS_FIELD,
      'credentialsVersion',
      ACCESS_FIELD,
    );
    if (!sealed) return null;
    const secret = this.openSecret(sealed, accountId);
    if ('password' in secret) return null;
    let access: OAuthAccess | undefined;
    if (sealedAccess) {
      try {
        access = readStoredJson(oauthAccessSchema, this.cipher.open(sealedAccess, accessAad(accountId)));
      } catch {
        // Sealed under a key since retired: a refresh replaces it (as it replaces an unreadable one).
        access = undefined;
      }
    }
    return {
      provider: secret.provider,
      refreshToken: secret.refreshToken,
      version: Number(version ?? '0'),
      sealed,
      ...(access ? { access } : {}),
    };
  }

  /** The sealed password or grant; StoredValueError when it decrypts to something the relay never wrote. */
  private openSecret(sealed: string, accountId: string): SealedSecret {
    return requireStoredJson(sealedSecretSchema, this.cipher.open(sealed, accountId), 'credentials');
  }

  /**
   * Stores what a refresh returned: the new access token and, when the provider rotated it, the
   * new refresh token. False when the credentials were replaced (re-linked) or the grant was
   * rotated by someone else since `grant` was read.
   */
  async storeRefreshedGrant(
    accountId: string,
    grant: StoredOAuthGrant,
    rotatedRefreshToken: string | undefined,
    access: OAuthAccess,
  ): Promise<boolean> {
    const newSealed =
      rotatedRefreshToken && rotatedRefreshToken !== grant.refreshToken
        ? this.cipher.seal(
            JSON.stringify({ kind: 'oauth2', provider: grant.provider, refreshToken: rotatedRefreshToken }),
            accountId,
          )
        : '';
    return STORE_REFRESHED.run(
      this.redis,
      [RedisKeys.account(accountId)],
      [grant.version, grant.sealed, newSealed, this.cipher.seal(JSON.stringify(access), accessAad(accountId))],
    );
  }

  /**
   * Re-arms an account with a new OAuth2 grant (the person signed in again): same account, cursor
   * kept, credentials version bumped so the worker reconnects. `consume`: the Reconnect link
   * session that authorised it, ended in the same step. 'link_used' when that session is gone.
   */
  async rearmWithOAuth(
    userId: string,
    accountId: string,
    username: string,
    grant: OAuthGrantInput,
    consume?: { sessionKey: string; scopeKey: string },
  ): Promise<Account | 'not_found' | 'link_used'> {
    if (!(await this.findForUser(userId, accountId))) return 'not_found';
    const sealed = this.cipher.seal(
      JSON.stringify({ kind: 'oauth2', provider: grant.provider, refreshToken: grant.refreshToken }),
      accountId,
    );
    const sealedAccess = this.cipher.seal(JSON.stringify(grant.access), accessAad(accountId));
    const result = await this.replace(accountId, username, sealed, 'oauth2', grant.provider, sealedAccess, consume);
    if (result === 'link_used') return 'link_used';
    return (await this.find(accountId)) ?? 'not_found';
  }

  /**
   * Re-seals an account's credentials under the newest master key (after a key rotation), unless
   * they already use it. Compare-and-set: a password changed meanwhile is left as it is.
   */
  async resealCredentials(accountId: string): Promise<'resealed' | 'current' | 'missing'> {
    const sealed = await this.redis.hget(RedisKeys.account(accountId), CREDENTIALS_FIELD);
    if (!sealed) return 'missing';
    if (!this.cipher.needsRotation(sealed)) return 'current';
    const resealed = this.cipher.seal(this.cipher.open(sealed, accountId), accountId);
    const swapped = await SET_FIELD_IF_VALUE.run(
      this.redis,
      [RedisKeys.account(accountId)],
      [CREDENTIALS_FIELD, sealed, resealed],
    );
    return swapped ? 'resealed' : 'current';
  }

  async replaceCredentials(
    userId: string,
    accountId: string,
    username: string,
    password: string,
    consume?: { sessionKey: string; scopeKey: string },
  ): Promise<Account | null | 'link_used'> {
    if (!(await this.findForUser(userId, accountId))) return null;
    const sealed = this.cipher.seal(JSON.stringify({ password }), accountId);
    if ((await this.replace(accountId, username, sealed, 'password', '', '', consume)) === 'link_used') {
      return 'link_used';
    }
    return this.find(accountId);
  }

  /**
   * Consumes the Reconnect link (when given) first, in its own script: the link and the account
   * live in different hash slots on a Redis Cluster, and only the one caller that consumed the link
   * goes on to replace the credentials.
   */
  private async replace(
    accountId: string,
    username: string,
    sealed: string,
    authType: Account['authType'],
    provider: string,
    sealedAccess: string,
    consume: { sessionKey: string; scopeKey: string } | undefined,
  ): Promise<'replaced' | 'account_gone' | 'link_used'> {
    if (consume && !(await CONSUME_LINK.run(this.redis, [consume.sessionKey, consume.scopeKey], [accountId]))) {
      return 'link_used';
    }
    const { keys, args } = notifying(accountId);
    const replaced = await REPLACE_CREDENTIALS.run(this.redis, keys, [
      ...args,
      username,
      sealed,
      authType,
      provider,
      sealedAccess,
    ]);
    return replaced ? 'replaced' : 'account_gone';
  }

  /** `disabled` is the person's choice: no worker holds the account until it is enabled again. */
  async setEnabled(userId: string, accountId: string, enabled: boolean): Promise<Account | null> {
    if (!(await this.findForUser(userId, accountId))) return null;
    const { keys, args } = notifying(accountId);
    await SET_ENABLED.run(this.redis, keys, [...args, enabled ? 'enable' : 'disable']);
    return this.find(accountId);
  }

  /** Deletes the account and erases its credentials and cursor; its slot's owner is told at once. */
  async remove(userId: string, accountId: string): Promise<boolean> {
    const account = await this.findForUser(userId, accountId);
    if (!account) return false;
    const { keys, args } = notifying(accountId, RedisKeys.cursor(accountId), RedisKeys.slotAccounts(slotOf(accountId)));
    await REMOVE.run(this.redis, keys, args);
    await Promise.all([
      this.redis.srem(RedisKeys.userAccounts(userId), accountId),
      this.redis.srem(RedisKeys.allAccounts(), accountId),
    ]);
    return true;
  }

  /**
   * Moves one account stored before slots (`mp:account:<id>`, `mp:cursor:<id>`) to its slot's
   * keys, cursor included, and adds it to its slot's set. Idempotent: a record already moved is
   * kept as it is, and running it twice (two workers starting together) moves nothing twice.
   */
  async migrateToSlot(accountId: string): Promise<'moved' | 'current' | 'missing'> {
    const legacy = await this.redis.hgetall(RedisKeys.legacyAccount(accountId));
    if (!legacy.id) {
      if (!(await this.redis.exists(RedisKeys.account(accountId)))) return 'missing';
      await this.redis.sadd(RedisKeys.slotAccounts(slotOf(accountId)), accountId);
      return 'current';
    }
    const cursor = await this.redis.hgetall(RedisKeys.legacyCursor(accountId));
    // Cursor first: a worker that sees the account in its slot must find the cursor with it.
    if (Object.keys(cursor).length > 0 && !(await this.redis.exists(RedisKeys.cursor(accountId)))) {
      await this.redis.hset(RedisKeys.cursor(accountId), cursor);
    }
    if (!(await this.redis.exists(RedisKeys.account(accountId)))) {
      await this.redis.hset(RedisKeys.account(accountId), legacy);
    }
    const { keys, args } = notifying(accountId);
    await this.redis.sadd(RedisKeys.slotAccounts(slotOf(accountId)), accountId);
    await NOTIFY_ONLY.run(this.redis, keys, args);
    await this.redis.del(RedisKeys.legacyAccount(accountId));
    await this.redis.del(RedisKeys.legacyCursor(accountId));
    return 'moved';
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
    return SET_STATUS.run(
      this.redis,
      [RedisKeys.account(accountId)],
      [credentialsVersion ?? '', ...Object.entries(set).flat(), ...del.flatMap((f) => [f, '\0del'])],
    );
  }

  async touchLastEvent(accountId: string, at: Date = new Date()): Promise<void> {
    await TOUCH_LAST_EVENT.run(this.redis, [RedisKeys.account(accountId)], [at.toISOString()]);
  }
}
