import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { sha256Hex } from './ids';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { scanKeys } from './scan-keys';
import { readStoredJson } from './stored-value';

/** What a pending authorization remembers between `start` and the callback. Holds the PKCE verifier: never log it. */
export interface OAuthStateRecord {
  provider: string;
  userId: string;
  /** SHA-256 of the link token that started it, when a link session did. */
  linkTokenHash?: string;
  /** Re-arm this account instead of linking a new one. */
  accountId?: string;
  codeVerifier: string;
  nonce: string;
  createdAt: number;
}

const recordSchema = z.strictObject({
  provider: z.string().min(1).max(64),
  userId: z.string().min(1).max(64),
  linkTokenHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  accountId: z.string().min(1).max(64).optional(),
  codeVerifier: z.string().min(43).max(128),
  nonce: z.string().min(16).max(128),
  createdAt: z.number().int(),
});

/**
 * Pending OAuth2 authorizations, keyed by a hash of the `state` parameter (so a Redis dump holds
 * no usable state), expiring by themselves and claimed once: GETDEL makes a replayed or
 * concurrent callback find nothing.
 */
@Injectable()
export class OAuthStateRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async create(record: OAuthStateRecord, ttlMs: number): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.redis.set(RedisKeys.oauthState(sha256Hex(state)), JSON.stringify(record), 'PX', ttlMs);
    return state;
  }

  /** The record, exactly once; null when unknown, expired or already claimed. */
  async claim(state: string): Promise<OAuthStateRecord | null> {
    const raw = await this.redis.getdel(RedisKeys.oauthState(sha256Hex(state)));
    if (!raw) return null;
    return readStoredJson(recordSchema, raw) ?? null;
  }

  /** Drops every pending authorization a user started (erasure); they live 10 minutes, so there are few. */
  async removeAllForUser(userId: string): Promise<number> {
    let removed = 0;
    for await (const key of scanKeys(this.redis, RedisKeys.oauthState('*'), 500)) {
      const raw = await this.redis.get(key);
      if (raw && readStoredJson(recordSchema, raw)?.userId === userId) removed += await this.redis.del(key);
    }
    return removed;
  }
}
