import {
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@mailpush/config';
import { LinkSessionRepository, UserRepository, type User } from '@mailpush/store';
import { ApiError } from './api-error';
import { ErrorCode } from '@mailpush/errors';

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(header) : null;
  return m?.[1];
}

const unauthorized = () =>
  new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.Unauthorized, 'Missing or invalid bearer token');

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const token = bearer(context.switchToHttp().getRequest<Request>());
    if (!token || !sameSecret(token, this.config.adminToken)) throw unauthorized();
    return true;
  }
}

type AuthedRequest = Request & { user?: User };

@Injectable()
export class UserGuard implements CanActivate {
  constructor(private readonly users: UserRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const token = bearer(req);
    const user = token?.startsWith('mpk_') ? await this.users.findByApiKey(token) : null;
    if (!user) throw unauthorized();
    req.user = user;
    return true;
  }
}

export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): User => {
  const user = context.switchToHttp().getRequest<AuthedRequest>().user;
  if (!user) throw unauthorized();
  return user;
});

export interface LinkSessionContext {
  token: string;
  userId: string;
  expiresAt: string;
  /** A Reconnect link: the one account it may re-arm. */
  accountId?: string;
}

/**
 * Routes that admit a Reconnect link (a link session scoped to one account). Every other
 * link-session route refuses one: it re-arms its account and does nothing else.
 */
export const AllowScopedLinkSession = Reflector.createDecorator<boolean>();

type LinkRequest = Request & { linkSession?: LinkSessionContext };

/** Admits the bearer of a linking token (`mpl_…`) while its session lives (not ended, not expired). */
@Injectable()
export class LinkSessionGuard implements CanActivate {
  constructor(
    private readonly sessions: LinkSessionRepository,
    private readonly reflector: Reflector,
    private readonly users: UserRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<LinkRequest>();
    const token = bearer(req);
    const found = token?.startsWith('mpl_') ? await this.sessions.find(token) : null;
    // A session of a deleted user is dead even in the moment before erasure reaches it.
    const session = found && (await this.users.find(found.userId)) ? found : null;
    if (!token || !session) {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        ErrorCode.LinkExpired,
        'This link is unknown, ended or expired; ask the app for a new one',
      );
    }
    if (session.accountId && !this.reflector.get(AllowScopedLinkSession, context.getHandler())) {
      throw new ApiError(
        HttpStatus.FORBIDDEN,
        ErrorCode.LinkScope,
        'This link only reconnects one mailbox; ask the app for a linking link to do more',
      );
    }
    req.linkSession = { token, ...session };
    return true;
  }
}

export const CurrentLinkSession = createParamDecorator((_: unknown, context: ExecutionContext): LinkSessionContext => {
  const session = context.switchToHttp().getRequest<LinkRequest>().linkSession;
  if (!session) throw unauthorized();
  return session;
});
