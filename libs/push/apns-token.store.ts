import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { RedisScript, readStoredJson } from '@mailpush/store';

/**
 * Apple: refresh the provider token no more than once every 20 minutes and no less than once
 * every 60; independent refreshes by several senders of one team cause
 * `429 TooManyProviderTokenUpdates`. So one JWT per team (and key) lives in Redis for every
 * dispatcher process, and only one process mints each new one.
 */
export const APNS_TOKEN_MIN_AGE_MS = 20 * 60_000;
/** APNs refuses a token older than an hour; the stored copy is useless after that. */
const APNS_TOKEN_MAX_AGE_MS = 60 * 60_000;
/** A lost compare-and-set means someone else just minted: read theirs. Bounded, never a loop. */
const MAX_CAS_ROUNDS = 3;

/** The shared copy: a JWT and when it was minted (ms). */
interface StoredToken {
  jwt: string;
  mintedAt: number;
  raw: string;
}

/** Where the one shared token lives. */
export interface ApnsTokenBackend {
  get(): Promise<string | null>;
  /** Replaces `expected` (null: nothing stored) by `next`; returns what is stored afterwards. */
  compareAndSet(expected: string | null, next: string, ttlMs: number): Promise<string | null>;
}

/** Replaces the shared token if it is still the one read; answers what is stored afterwards. */
const CAS = new RedisScript(__dirname, 'apns-token-cas', 1, (reply) => reply.stringOrNull());

export class RedisApnsTokenBackend implements ApnsTokenBackend {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  get(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  async compareAndSet(expected: string | null, next: string, ttlMs: number): Promise<string | null> {
    return CAS.run(this.redis, [this.key], [expected ?? '', next, ttlMs]);
  }
}

/** One process only (a single-node setup, unit tests): the same policy without sharing. */
export class MemoryApnsTokenBackend implements ApnsTokenBackend {
  private value: string | null = null;

  get(): Promise<string | null> {
    return Promise.resolve(this.value);
  }

  compareAndSet(expected: string | null, next: string): Promise<string | null> {
    if (this.value === expected) this.value = next;
    return Promise.resolve(this.value);
  }
}

export interface ApnsTokenStoreOptions {
  keyPem: string;
  keyId: string;
  teamId: string;
  /** Age at which the shared token is replaced (20-55 min). */
  refreshMs: number;
  backend: ApnsTokenBackend;
  /** Clock (ms), for tests. */
  now?: () => number;
  /** Called when a token this process minted became the shared one (a metric). */
  onMinted?: () => void;
}

/**
 * The team's APNs provider token, shared through a backend (Redis). `current()` is cheap: it
 * answers from memory until the token reaches `refreshMs`, then reads the shared copy, and mints
 * only when the shared copy is due too; a compare-and-set makes exactly one process win each
 * period and the others adopt its token.
 */
export class ApnsTokenStore {
  private readonly key: KeyObject;
  private readonly now: () => number;
  private cached: StoredToken | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: ApnsTokenStoreOptions) {
    if (options.refreshMs < APNS_TOKEN_MIN_AGE_MS || options.refreshMs >= APNS_TOKEN_MAX_AGE_MS) {
      throw new Error('APNs token refresh must be between 20 and 60 minutes');
    }
    this.key = createPrivateKey(options.keyPem);
    this.now = options.now ?? Date.now;
  }

  /** The JWT to send now, as last known in this process (may be undefined before the first `current()`). */
  peek(): string | undefined {
    return this.cached?.jwt;
  }

  /** The JWT to send now when no refresh is due, without a promise (the hot path); else undefined. */
  fresh(): string | undefined {
    const cached = this.cached;
    return cached && this.now() - cached.mintedAt < this.options.refreshMs ? cached.jwt : undefined;
  }

  async current(): Promise<string> {
    const fresh = this.fresh();
    if (fresh !== undefined) return fresh;
    this.pending ??= this.refresh(this.options.refreshMs).finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * APNs answered 403 ExpiredProviderToken for `jwt`. A token younger than 20 minutes is kept
   * (replacing it would be the rapid refresh Apple throttles; the delivery retries later); an older
   * one is replaced once, by whichever process gets there first.
   */
  async reportExpired(jwt: string): Promise<void> {
    const stored = parse(await this.options.backend.get());
    if (!stored || stored.jwt !== jwt) {
      // Someone already replaced it: forget ours so the next send reads the new one.
      if (this.cached?.jwt === jwt) this.cached = undefined;
      return;
    }
    if (this.now() - stored.mintedAt < APNS_TOKEN_MIN_AGE_MS) return;
    await this.refresh(APNS_TOKEN_MIN_AGE_MS);
  }

  /** Adopts the shared token unless it is `dueAfterMs` old; then mints, and the first writer wins. */
  private async refresh(dueAfterMs: number): Promise<string> {
    const backend = this.options.backend;
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const stored = parse(await backend.get());
      if (stored && this.now() - stored.mintedAt < dueAfterMs) return this.adopt(stored);
      const minted = this.mint();
      const winner = parse(await backend.compareAndSet(stored?.raw ?? null, minted, APNS_TOKEN_MAX_AGE_MS));
      if (winner?.raw === minted) this.options.onMinted?.();
      if (winner) return this.adopt(winner);
    }
    throw new Error('could not agree on a shared APNs provider token');
  }

  private adopt(token: StoredToken): string {
    this.cached = token;
    return token.jwt;
  }

  /** ES256 JWT as Apple wants it: header {alg, kid}, claims {iss, iat}; the signature is r||s. */
  private mint(): string {
    const mintedAt = this.now();
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: this.options.keyId })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ iss: this.options.teamId, iat: Math.floor(mintedAt / 1000) })).toString(
      'base64url',
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return JSON.stringify({ jwt: `${header}.${claims}.${signature.toString('base64url')}`, mintedAt });
  }
}

/** What `mint` writes; anything else under the key is treated as no token (a fresh one is agreed). */
const storedTokenSchema = z.object({ jwt: z.string(), mintedAt: z.number() });

function parse(raw: string | null): StoredToken | undefined {
  const value = raw ? readStoredJson(storedTokenSchema, raw) : undefined;
  return raw && value ? { jwt: value.jwt, mintedAt: value.mintedAt, raw } : undefined;
}
