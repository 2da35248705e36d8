import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { newId, sha256Hex } from './ids';
import type { ApnsEnvironment, Device, Platform, PrivacyTier } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';

export interface NewDevice {
  platform: Platform;
  token: string;
  environment?: ApnsEnvironment;
  privacy: PrivacyTier;
}

function toDevice(h: Record<string, string>): Device | null {
  if (!h.id || !h.userId || !h.platform || !h.token || !h.createdAt) return null;
  return {
    id: h.id,
    userId: h.userId,
    platform: h.platform as Platform,
    token: h.token,
    ...(h.environment ? { environment: h.environment as ApnsEnvironment } : {}),
    privacy: (h.privacy as PrivacyTier | undefined) ?? 'full',
    createdAt: h.createdAt,
  };
}

@Injectable()
export class DeviceRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /**
   * Registers a device. Registering the same push token again (an app re-registering on launch)
   * updates that device instead of adding a duplicate that would double every notification.
   */
  async upsert(userId: string, input: NewDevice): Promise<{ device: Device; created: boolean }> {
    const tokenKey = RedisKeys.deviceToken(input.platform, sha256Hex(input.token));
    const existingId = await this.redis.get(tokenKey);
    const existing = existingId ? await this.find(existingId) : null;
    const device: Device = {
      id: existing?.id ?? newId('dev'),
      userId,
      platform: input.platform,
      token: input.token,
      ...(input.environment ? { environment: input.environment } : {}),
      privacy: input.privacy,
      createdAt: existing?.createdAt ?? new Date().toISOString(),
    };
    // Keys of three hash slots on a Redis Cluster, so no MULTI: the device first, then the
    // indexes that lead to it (an index entry without its device is skipped by every reader).
    await this.redis
      .multi()
      .del(RedisKeys.device(device.id))
      .hset(RedisKeys.device(device.id), { ...device })
      .exec();
    if (existing && existing.userId !== userId)
      await this.redis.srem(RedisKeys.userDevices(existing.userId), existing.id);
    await this.redis.sadd(RedisKeys.userDevices(userId), device.id);
    await this.redis.set(tokenKey, device.id);
    return { device, created: !existing };
  }

  async find(deviceId: string): Promise<Device | null> {
    return toDevice(await this.redis.hgetall(RedisKeys.device(deviceId)));
  }

  async listForUser(userId: string): Promise<Device[]> {
    const ids = await this.redis.smembers(RedisKeys.userDevices(userId));
    // Auto-pipelined (an explicit pipeline cannot span Redis Cluster hash slots).
    const records = await Promise.all(ids.map((id) => this.redis.hgetall(RedisKeys.device(id))));
    return records
      .map((h) => toDevice(h))
      .filter((d): d is Device => d !== null)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Removes a device; returns false when it does not exist or belongs to someone else. */
  async remove(userId: string, deviceId: string): Promise<boolean> {
    const device = await this.find(deviceId);
    if (!device || device.userId !== userId) return false;
    // Indexes first, then the device (see upsert).
    await this.redis.del(RedisKeys.deviceToken(device.platform, sha256Hex(device.token)));
    await this.redis.srem(RedisKeys.userDevices(userId), deviceId);
    await this.redis.del(RedisKeys.device(deviceId));
    return true;
  }

  /**
   * Prunes a device the push service declared dead, but only if it still holds the token that
   * was declared dead (the app may have re-registered a fresh token meanwhile).
   */
  async pruneIfToken(deviceId: string, token: string): Promise<boolean> {
    const device = await this.find(deviceId);
    if (!device || device.token !== token) return false;
    return this.remove(device.userId, deviceId);
  }
}
