import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig, type RateLimitConfig } from '@mailpush/config';
import { ErrorClass, ErrorCode } from '@mailpush/errors';
import type { LoginAdmission, LoginGate, LoginOutcome } from '@mailpush/imap';
import { createLogger } from '@mailpush/logging';
import { LinkSessionRepository, REDIS, RedisKeys } from '@mailpush/store';

const log = createLogger('limits');

/** A link session that saw this many refused logins is ended: a leaked link is not an oracle. */
export const LINK_SESSION_MAX_REFUSALS = 5;

/** Who makes the relay log in: every limit is keyed off this. */
export interface LoginRequester {
  userId: string;
  /** The client's address as Express sees it (X-Forwarded-For only with MAILPUSH_TRUST_PROXY). */
  clientAddress?: string;
  /** SHA-256 of the link-session token the login is made through, if any (its refusals end it). */
  linkSessionHash?: string;
}

type Scope = 'user' | 'address' | 'host';

const REFUSAL_WORDS: Record<Scope, string> = {
  user: 'Too many sign-in attempts for this account',
  address: 'Too many sign-in attempts from your network address',
  host: 'Too many sign-in attempts to this mail server through this relay',
};

/**
 * Login attempts per user, per client address and per target host, in Redis so they hold across
 * api replicas. An attempt takes one point from each before any connection; a successful login
 * gives its points back, so the counters hold failures and logins still in flight: 25 wrong
 * passwords sent at once stop at the limit, twenty mailboxes linked in a row do not.
 */
@Injectable()
export class LoginLimiter {
  private readonly limiters: Record<Scope, RateLimiterRedis>;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly sessions: LinkSessionRepository,
  ) {
    const make = (scope: Scope, limit: RateLimitConfig) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: RedisKeys.loginLimit(scope),
        points: limit.points,
        duration: limit.durationS,
      });
    this.limiters = {
      user: make('user', config.limits.loginPerUser),
      address: make('address', config.limits.loginPerAddress),
      host: make('host', config.limits.loginPerHost),
    };
  }

  /** The gate a login check passes for this requester (libs/imap verifyImapLogin). */
  gateFor(requester: LoginRequester): LoginGate {
    return { admit: (host) => this.admit(requester, host) };
  }

  /** Forgets a user's counter (erasure). */
  async forgetUser(userId: string): Promise<void> {
    await this.limiters.user.delete(userId);
  }

  private async admit(requester: LoginRequester, host: string): Promise<LoginAdmission> {
    const keys: [Scope, string][] = [['user', requester.userId]];
    if (requester.clientAddress) keys.push(['address', requester.clientAddress]);
    keys.push(['host', host.toLowerCase()]);
    const taken: [Scope, string][] = [];
    for (const [scope, key] of keys) {
      try {
        await this.limiters[scope].consume(key, 1);
        taken.push([scope, key]);
      } catch (err) {
        await this.giveBack(taken);
        if (!(err instanceof RateLimiterRes)) throw err;
        log.info('login attempt refused by a limit', { scope, userId: requester.userId });
        return {
          admitted: false,
          error: {
            errorClass: ErrorClass.RateLimited,
            code: ErrorCode.TooManyAttempts,
            message: `${REFUSAL_WORDS[scope]}; try again in ${Math.max(1, Math.ceil(err.msBeforeNext / 60_000))} minute(s)`,
            retryAfterMs: Math.max(1000, err.msBeforeNext),
          },
        };
      }
    }
    return {
      admitted: true,
      finish: async (outcome: LoginOutcome) => {
        if (outcome === 'ok') await this.giveBack(taken);
        if (outcome === 'refused' && requester.linkSessionHash) {
          const ended = await this.sessions.recordRefusal(requester.linkSessionHash, LINK_SESSION_MAX_REFUSALS);
          if (ended) log.info('link session ended after too many refused logins', { userId: requester.userId });
        }
      },
    };
  }

  private async giveBack(taken: [Scope, string][]): Promise<void> {
    await Promise.all(taken.map(([scope, key]) => this.limiters[scope].reward(key, 1)));
  }
}
