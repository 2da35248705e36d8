import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import type { LoginRequester } from '@mailpush/limits';
import { sha256Hex, type User } from '@mailpush/store';
import type { LinkSessionContext } from './auth.guards';

type RequesterRequest = Request & { user?: User; linkSession?: LinkSessionContext };

/**
 * Who is asking, for the login limits: the user (by API key or link session), the link session
 * itself, and the client address (`req.ip`: X-Forwarded-For counts only with MAILPUSH_TRUST_PROXY).
 * Use after UserGuard or LinkSessionGuard.
 */
export const Requester = createParamDecorator((_: unknown, context: ExecutionContext): LoginRequester => {
  const req = context.switchToHttp().getRequest<RequesterRequest>();
  const userId = req.user?.id ?? req.linkSession?.userId;
  if (!userId) throw new Error('Requester used on a route without UserGuard or LinkSessionGuard');
  return {
    userId,
    ...(req.ip ? { clientAddress: req.ip } : {}),
    ...(req.linkSession && !req.user ? { linkSessionHash: sha256Hex(req.linkSession.token) } : {}),
  };
});
