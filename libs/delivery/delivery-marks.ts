import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '@mailpush/store';

/**
 * Marks outlive every retry of a delivery job (minutes) and of the fan-out that adds it, by far;
 * a dead letter replayed later finds its device released, not settled.
 */
const MARKS_TTL_MS = 24 * 3600_000;
/** A settled mark never equals a job id (job ids never start with it). */
const SETTLED = '=';

/**
 * Per-device delivery marks of one message: a device is claimed by the job delivering to it (a
 * retry of that job, same id, may claim it again), settled once an outcome is known, and released
 * when a send failed so a retry or a replay can claim it. A device claimed by another job or
 * already settled is not sent again.
 */
@Injectable()
export class DeliveryMarks {
  private readonly pending = new Map<string, { fields: Map<string, string>; written: Promise<void> }>();

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** The devices this job may send to now (one round trip, atomic on the message's key). */
  async claim(messageKey: string, deviceIds: readonly string[], jobId: string): Promise<string[]> {
    const key = RedisKeys.deliveryMarks(messageKey);
    const tx = this.redis.multi();
    for (const deviceId of deviceIds) tx.hsetnx(key, deviceId, jobId);
    tx.hmget(key, ...deviceIds);
    tx.pexpire(key, MARKS_TTL_MS);
    const replies = await tx.exec();
    const owners = replies?.[deviceIds.length]?.[1];
    if (!Array.isArray(owners)) throw new Error('delivery marks: the claim transaction was not executed');
    return deviceIds.filter((_, i) => owners[i] === jobId);
  }

  /**
   * The device has its outcome (delivered, pruned, rejected, skipped): never sent again for this
   * message. The devices of one message settled in the same turn of the event loop share one HSET.
   */
  settle(messageKey: string, deviceId: string, outcome: string): Promise<void> {
    let pending = this.pending.get(messageKey);
    if (!pending) {
      const fields = new Map<string, string>();
      const written = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        this.pending.delete(messageKey);
        await this.redis.hset(RedisKeys.deliveryMarks(messageKey), fields);
      });
      pending = { fields, written };
      this.pending.set(messageKey, pending);
    }
    pending.fields.set(deviceId, `${SETTLED}${outcome}`);
    return pending.written;
  }

  /** The send failed and will be retried (or replayed): let the next attempt claim the devices. */
  async release(messageKey: string, ...deviceIds: string[]): Promise<void> {
    if (deviceIds.length > 0) await this.redis.hdel(RedisKeys.deliveryMarks(messageKey), ...deviceIds);
  }

  /** Of these devices, those whose delivery of this message has its outcome. */
  async settled(messageKey: string, deviceIds: readonly string[]): Promise<Set<string>> {
    if (deviceIds.length === 0) return new Set();
    const marks = await this.redis.hmget(RedisKeys.deliveryMarks(messageKey), ...deviceIds);
    return new Set(deviceIds.filter((_, i) => marks[i]?.startsWith(SETTLED)));
  }
}
