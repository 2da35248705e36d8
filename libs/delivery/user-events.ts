import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { reauthKey, type MailEvent, type ReauthEvent } from '@mailpush/queue';
import { REDIS, RedisKeys } from '@mailpush/store';

/**
 * One new-mail event on a user's live stream (`GET /v1/events`). It is the user's own
 * authenticated channel, so it carries sender and subject whatever the devices' privacy tiers.
 * `id` is the message key: a client drops an id it has seen (a retried fan-out publishes again).
 */
export interface UserMailEvent {
  type: 'new-mail';
  id: string;
  accountId: string;
  messageKey: string;
  uidValidity: number;
  uid: number;
  from?: { name?: string; address?: string };
  subject?: string;
  date?: string;
  detectedAt: number;
  unseen?: number;
  summary?: { count: number; firstUid: number };
}

export function toUserMailEvent(event: MailEvent): UserMailEvent {
  return {
    type: 'new-mail',
    id: event.messageKey,
    accountId: event.accountId,
    messageKey: event.messageKey,
    uidValidity: event.uidValidity,
    uid: event.uid,
    ...(event.from ? { from: event.from } : {}),
    ...(event.subject !== undefined ? { subject: event.subject } : {}),
    ...(event.date ? { date: event.date } : {}),
    detectedAt: event.detectedAt,
    ...(event.unseen !== undefined ? { unseen: event.unseen } : {}),
    ...(event.summary ? { summary: event.summary } : {}),
  };
}

/** "Reconnect <email>" on the live stream (SSE `event: reauth`), with the same one-time link a push carries. */
export interface UserReauthEvent {
  type: 'reauth';
  id: string;
  accountId: string;
  email: string;
  code: string;
  url?: string;
}

export function toUserReauthEvent(event: ReauthEvent, email: string, url: string | undefined): UserReauthEvent {
  return {
    type: 'reauth',
    id: reauthKey(event.accountId, event.credentialsVersion),
    accountId: event.accountId,
    email,
    code: event.code,
    ...(url ? { url } : {}),
  };
}

/** Publishes a user's events on their Redis channel; every API process streams its subscribers' share. */
@Injectable()
export class UserEventsPublisher {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async publish(event: MailEvent): Promise<void> {
    await this.redis.publish(RedisKeys.userEventsChannel(event.userId), JSON.stringify(toUserMailEvent(event)));
  }

  async publishReauth(event: ReauthEvent, email: string, url: string | undefined): Promise<void> {
    await this.redis.publish(
      RedisKeys.userEventsChannel(event.userId),
      JSON.stringify(toUserReauthEvent(event, email, url)),
    );
  }
}
