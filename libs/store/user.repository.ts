import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newId, sha256Hex } from './ids';
import type { User } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';
import { scanKeys } from './scan-keys';

/**
 * Points the user record at a new API key hash if it still holds the one read (one key: the user
 * record and the key entries are in different hash slots on a Redis Cluster). The record's hash is
 * what makes a key valid (see findByApiKey), so the old key stops working here, before its entry
 * is deleted.
 */
const SWAP_KEY_HASH = new RedisScript(__dirname, 'swap-api-key-hash', 1, (reply) => {
  const outcomes = { 1: 'swapped', 0: 'raced', [-1]: 'user_gone' } as const;
  return outcomes[reply.oneOf([1, 0, -1])];
});

@Injectable()
export class UserRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Creates a user and returns its API key, which is stored only as a SHA-256 hash. */
  async create(): Promise<{ user: User; apiKey: string }> {
    const user: User = { id: newId('usr'), createdAt: new Date().toISOString() };
    const apiKey = `mpk_${randomBytes(32).toString('base64url')}`;
    const apiKeyHash = sha256Hex(apiKey);
    // The user before the key that finds it (two hash slots on a Redis Cluster: no MULTI).
    await this.redis.hset(RedisKeys.user(user.id), { id: user.id, createdAt: user.createdAt, apiKeyHash });
    await this.redis.set(RedisKeys.apiKey(apiKeyHash), user.id);
    return { user, apiKey };
  }

  /** A new API key for the user; the old one stops working at once. Null when there is no such user. */
  async rotateApiKey(userId: string): Promise<string | null> {
    for (let round = 0; round < 5; round++) {
      const current = (await this.redis.hget(RedisKeys.user(userId), 'apiKeyHash')) ?? '';
      const old = current ? [current] : await this.keyHashesByScan(userId);
      const apiKey = `mpk_${randomBytes(32).toString('base64url')}`;
      const hash = sha256Hex(apiKey);
      // The new entry first (it opens nothing until the record names it), then the swap.
      await this.redis.set(RedisKeys.apiKey(hash), userId);
      const result = await SWAP_KEY_HASH.run(this.redis, [RedisKeys.user(userId)], [current, hash]);
      if (result === 'swapped') {
        for (const h of old) await this.redis.del(RedisKeys.apiKey(h));
        return apiKey;
      }
      await this.redis.del(RedisKeys.apiKey(hash));
      if (result === 'user_gone') return null;
    }
    throw new Error('API key rotation kept racing another rotation');
  }

  /**
   * Deletes the user record, then its API key (the caller erases everything else). The record
   * goes first: without it the key opens nothing, and creates for the user stop (see quota.ts).
   */
  async remove(userId: string): Promise<boolean> {
    const current = await this.redis.hget(RedisKeys.user(userId), 'apiKeyHash');
    const hashes = current ? [current] : await this.keyHashesByScan(userId);
    let deleted = await this.redis.del(RedisKeys.user(userId));
    for (const h of hashes) deleted += await this.redis.del(RedisKeys.apiKey(h));
    return deleted > 0;
  }

  /** Users created before the key hash was kept on the user record: found by value. */
  private async keyHashesByScan(userId: string): Promise<string[]> {
    const prefix = RedisKeys.apiKey('');
    const found: string[] = [];
    for await (const key of scanKeys(this.redis, RedisKeys.apiKey('*'))) {
      if ((await this.redis.get(key)) === userId) found.push(key.slice(prefix.length));
    }
    return found;
  }

  /** The key's user, if the key is the one the user record names (records from before rotation name none). */
  async findByApiKey(apiKey: string): Promise<User | null> {
    const hash = sha256Hex(apiKey);
    const userId = await this.redis.get(RedisKeys.apiKey(hash));
    if (!userId) return null;
    const h = await this.redis.hgetall(RedisKeys.user(userId));
    if (!h.id || !h.createdAt || (h.apiKeyHash !== undefined && h.apiKeyHash !== hash)) return null;
    return { id: h.id, createdAt: h.createdAt };
  }

  async find(userId: string): Promise<User | null> {
    const h = await this.redis.hgetall(RedisKeys.user(userId));
    return h.id && h.createdAt ? { id: h.id, createdAt: h.createdAt } : null;
  }
}
