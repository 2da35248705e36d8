import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { createLogger } from '@mailpush/logging';
import { RedisKeys, createRedisConnection, type Redis } from '@mailpush/store';

const log = createLogger('events');

export type UserEventListener = (message: string) => void;

/**
 * One Redis subscriber connection per API process, shared by every open stream: a user's channel
 * is subscribed while at least one of their streams is open here. ioredis re-subscribes after a
 * reconnect by itself.
 */
@Injectable()
export class UserEventsSubscriber implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly listeners = new Map<string, Set<UserEventListener>>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = createRedisConnection(config.redis, 'subscriber');
    this.redis.on('error', (err) => log.warn('events subscriber connection error', { err }));
    this.redis.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
  }

  /** Resolves once Redis confirms the subscription, so nothing published afterwards is missed. */
  async subscribe(userId: string, listener: UserEventListener): Promise<() => void> {
    const channel = RedisKeys.userEventsChannel(userId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    await this.redis.subscribe(channel);
    return () => {
      const current = this.listeners.get(channel);
      current?.delete(listener);
      if (current && current.size === 0) {
        this.listeners.delete(channel);
        void this.redis.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  /** Streams of one user open in this process. */
  openCount(userId: string): number {
    return this.listeners.get(RedisKeys.userEventsChannel(userId))?.size ?? 0;
  }

  async onApplicationShutdown(): Promise<void> {
    this.listeners.clear();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
