import { Injectable } from '@nestjs/common';
import type { MailboxWatcherDeps } from '@mailpush/imap';
import { createLogger } from '@mailpush/logging';
import { metrics } from '@mailpush/metrics';
import { TokenSourceFactory } from '@mailpush/oauth';
import { MailEventsProducer } from '@mailpush/queue';
import type { Account } from '@mailpush/store';

const log = createLogger('supervisor');

/**
 * What a watcher needs beyond the mailbox (issue 7), kept out of the ownership code: the access
 * token source of an OAuth2 account, and the announcement of a refusal for good (the Reconnect
 * notification to every device of the person).
 */
@Injectable()
export class CredentialHooks {
  constructor(
    private readonly tokens: TokenSourceFactory,
    private readonly events: MailEventsProducer,
  ) {}

  for(account: Account): Pick<MailboxWatcherDeps, 'tokens' | 'announceAuthError'> {
    return {
      ...(account.authType === 'oauth2'
        ? { tokens: this.tokens.forAccount(account.id, (outcome) => metrics.oauthRefreshes.inc({ outcome })) }
        : {}),
      announceAuthError: async (failure, credentialsVersion) => {
        await this.events.enqueueReauth({
          accountId: account.id,
          userId: account.userId,
          credentialsVersion,
          code: failure.code,
          detectedAt: Date.now(),
        });
        log.info('reconnect requested from the person', { accountId: account.id, code: failure.code });
      },
    };
  }
}
