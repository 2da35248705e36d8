import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newId, sha256Hex } from './ids';
import type { User } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

@Injectable()
export class UserRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Creates a user and returns its API key, which is stored only as a SHA-256 hash. */
  async create(): Promise<{ user: User; apiKey: string }> {
    const user: User = { id: newId('usr'), createdAt: new Date().toISOString() };
    const apiKey = `mpk_${randomBytes(32).toString('base64url')}`;
    // The user before the key that finds it (two hash slots on a Redis Cluster: no MULTI).
    await this.redis.hset(RedisKeys.user(user.id), { id: user.id, createdAt: user.createdAt });
    await this.redis.set(RedisKeys.apiKey(sha256Hex(apiKey)), user.id);
    return { user, apiKey };
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
