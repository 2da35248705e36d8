import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newId, sha256Hex } from './ids';
import type { User } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

/** Swaps the user's API key if it is still the one read; -1 when the user is gone, 0 on a lost race. */
const ROTATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if (redis.call('HGET', KEYS[1], 'apiKeyHash') or '') ~= ARGV[1] then return 0 end
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'apiKeyHash', ARGV[2])
return 1`;

@Injectable()
export class UserRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Creates a user and returns its API key, which is stored only as a SHA-256 hash. */
  async create(): Promise<{ user: User; apiKey: string }> {
    const user: User = { id: newId('usr'), createdAt: new Date().toISOString() };
    const apiKey = `mpk_${randomBytes(32).toString('base64url')}`;
    const apiKeyHash = sha256Hex(apiKey);
    await this.redis
      .multi()
      .hset(RedisKeys.user(user.id), { id: user.id, createdAt: user.createdAt, apiKeyHash })
      .set(RedisKeys.apiKey(apiKeyHash), user.id)
      .exec();
    return { user, apiKey };
  }

  /** A new API key for the user; the old one stops working at once. Null when there is no such user. */
  async rotateApiKey(userId: string): Promise<string | null> {
    for (let round = 0; round < 5; round++) {
      const current = (await this.redis.hget(RedisKeys.user(userId), 'apiKeyHash')) ?? '';
      const old = current ? [current] : await this.keyHashesByScan(userId);
      const apiKey = `mpk_${randomBytes(32).toString('base64url')}`;
      const hash = sha256Hex(apiKey);
      const result = await this.redis.eval(
        ROTATE,
        2 + old.length,
        RedisKeys.user(userId),
        RedisKeys.apiKey(hash),
        ...old.map((h) => RedisKeys.apiKey(h)),
        current,
        hash,
        userId,
      );
      if (result === -1) return null;
      if (result === 1) return apiKey;
    }
    throw new Error('API key rotation kept racing another rotation');
  }

  /** Deletes the user record and API key (the caller erases everything else first). */
  async remove(userId: string): Promise<boolean> {
    const current = await this.redis.hget(RedisKeys.user(userId), 'apiKeyHash');
    const hashes = current ? [current] : await this.keyHashesByScan(userId);
    const deleted = await this.redis.del(RedisKeys.user(userId), ...hashes.map((h) => RedisKeys.apiKey(h)));
    return deleted > 0;
  }

  /** Users created before the key hash was kept on the user record: found by value. */
  private async keyHashesByScan(userId: string): Promise<string[]> {
    const prefix = RedisKeys.apiKey('');
    const found: string[] = [];
    const stream = this.redis.scanStream({ match: RedisKeys.apiKey('*'), count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      for (const key of keys) if ((await this.redis.get(key)) === userId) found.push(key.slice(prefix.length));
    }
    return found;
  }

  async findByApiKey(apiKey: string): Promise<User | null> {
    const userId = await this.redis.get(RedisKeys.apiKey(sha256Hex(apiKey)));
    return userId ? this.find(userId) : null;
  }

  async find(userId: string): Promise<User | null> {
    const h = await this.redis.hgetall(RedisKeys.user(userId));
    return h.id && h.createdAt ? { id: h.id, createdAt: h.createdAt } : null;
  }
}
