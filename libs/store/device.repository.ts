import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { CredentialCipher } from './credential-cipher';
import { newId, sha256Hex } from './ids';
import { assertOwnerExists, reserveQuotaPlace } from './quota';
import type { ApnsEnvironment, Device, Platform, PrivacyTier } from './models';
import { REDIS } from './redis.provider';
import { RedisKeys } from './redis-keys';
import { RedisScript } from './redis-script';
import { scanKeys } from './scan-keys';
import { isApnsEnvironment, isPlatform, isPrivacyTier } from './stored-fields';

export interface NewDevice {
  platform: Platform;
  token: string;
  environment?: ApnsEnvironment;
  privacy: PrivacyTier;
}

/** Swaps in the re-sealed token only if the record is still the one read (and drops a plaintext one). */
const RESEAL = new RedisScript(__dirname, 'reseal-device-token', 1, (reply) => reply.oneOf([0, 1]) === 1);

/** The push token is sealed at rest like a password (bound to the device id); `token` is a pre-sealing record. */
const SEALED_TOKEN_FIELD = 'sealedToken';

/** Records from before privacy tiers show everything; a tier the relay never wrote shows nothing. */
function storedPrivacy(value: string | undefined): PrivacyTier {
  if (value === undefined) return 'full';
  return isPrivacyTier(value) ? value : 'none';
}

function toDevice(h: Record<string, string>, cipher: CredentialCipher): Device | null {
  if (!h.id || !h.userId || !h.platform || !isPlatform(h.platform) || !h.createdAt) return null;
  const sealed = h[SEALED_TOKEN_FIELD];
  const token = sealed ? cipher.open(sealed, h.id) : h.token;
  if (!token) return null;
  return {
    id: h.id,
    userId: h.userId,
    platform: h.platform,
    token,
    ...(h.environment && isApnsEnvironment(h.environment) ? { environment: h.environment } : {}),
    privacy: storedPrivacy(h.privacy),
    createdAt: h.createdAt,
  };
}

@Injectable()
export class DeviceRepository {
  private readonly cipher: CredentialCipher;
  private readonly maxPerUser: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'masterKeys' | 'limits'>,
  ) {
    this.cipher = new CredentialCipher(config.masterKeys);
    this.maxPerUser = config.limits.devicesPerUser;
  }

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
    const { token, ...stored } = device;
    const added = !existing || existing.userId !== userId;
    if (added) {
      // At most MAILPUSH_MAX_DEVICES_PER_USER, atomically (QuotaExceededError otherwise); the place
      // is the user's index entry (see AccountRepository.create for the owner checks around it).
      await assertOwnerExists(this.redis, userId);
      await reserveQuotaPlace(this.redis, RedisKeys.userDevices(userId), device.id, {
        kind: 'devices',
        max: this.maxPerUser,
      });
    }
    // Keys of three hash slots on a Redis Cluster, so no MULTI: the device first, then the
    // indexes that lead to it (an index entry without its device is skipped by every reader).
    try {
      await this.redis
        .multi()
        .del(RedisKeys.device(device.id))
        .hset(RedisKeys.device(device.id), { ...stored, [SEALED_TOKEN_FIELD]: this.cipher.seal(token, device.id) })
        .exec();
    } catch (err) {
      if (added) await this.redis.srem(RedisKeys.userDevices(userId), device.id).catch(() => 0);
      throw err;
    }
    if (existing && existing.userId !== userId)
      await this.redis.srem(RedisKeys.userDevices(existing.userId), existing.id);
    await this.redis.set(tokenKey, device.id);
    if (added) {
      try {
        await assertOwnerExists(this.redis, userId);
      } catch (err) {
        await this.remove(userId, device.id);
        throw err;
      }
    }
    return { device, created: !existing };
  }

  async find(deviceId: string): Promise<Device | null> {
    return toDevice(await this.redis.hgetall(RedisKeys.device(deviceId)), this.cipher);
  }

  /** A user's device ids without reading the records: enough to fan out (each delivery reads its device). */
  async idsForUser(userId: string): Promise<string[]> {
    return this.redis.smembers(RedisKeys.userDevices(userId));
  }

  async listForUser(userId: string): Promise<Device[]> {
    const ids = await this.redis.smembers(RedisKeys.userDevices(userId));
    // Auto-pipelined (an explicit pipeline cannot span Redis Cluster hash slots).
    const records = await Promise.all(ids.map((id) => this.redis.hgetall(RedisKeys.device(id))));
    return records
      .map((h) => toDevice(h, this.cipher))
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

  /**
   * Re-seals every device token under the newest master key (after a rotation), and seals tokens
   * stored before sealing existed. Compare-and-set per device, like the credentials.
   */
  async resealTokens(): Promise<{ resealed: number; current: number; failed: number }> {
    const counts = { resealed: 0, current: 0, failed: 0 };
    const prefix = RedisKeys.device('');
    for await (const key of scanKeys(this.redis, RedisKeys.device('*'), 500)) {
      const id = key.slice(prefix.length);
      if (id.includes(':')) continue;
      try {
        const [sealed, plain] = await this.redis.hmget(key, SEALED_TOKEN_FIELD, 'token');
        if (sealed && !this.cipher.needsRotation(sealed)) {
          counts.current += 1;
          continue;
        }
        const token = sealed ? this.cipher.open(sealed, id) : plain;
        if (!token) continue;
        const swapped = await RESEAL.run(
          this.redis,
          [key],
          [sealed ?? '', plain ?? '', this.cipher.seal(token, id), SEALED_TOKEN_FIELD],
        );
        counts[swapped ? 'resealed' : 'current'] += 1;
      } catch {
        counts.failed += 1;
      }
    }
    return counts;
  }
}
