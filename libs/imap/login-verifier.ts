import { ErrorClass, classifyImapError, type ClassifiedError } from '../errors';
import type { ImapEndpoint, MailboxCursor } from '../store';
import { HostNotAllowedError, HostNotFoundError, resolveImapHost } from './host-guard';
import { createImapClient, type ImapAuth, type ImapTimeouts } from './imap-client.factory';

export type LoginCheck = { ok: true; cursor: MailboxCursor } | { ok: false; error: ClassifiedError };

/**
 * Logs in once, reads INBOX's UIDVALIDITY/UIDNEXT and logs out. The cursor it returns marks
 * "now": mail that arrives after linking is notified, history before it is not.
 */
export async function verifyImapLogin(
  endpoint: ImapEndpoint,
  auth: ImapAuth,
  options: { allowPrivateHosts: boolean; timeouts: ImapTimeouts },
): Promise<LoginCheck> {
  let resolved;
  try {
    resolved = await resolveImapHost(endpoint.host, options.allowPrivateHosts);
  } catch (err) {
    if (err instanceof HostNotAllowedError || err instanceof HostNotFoundError) {
      return { ok: false, error: { errorClass: ErrorClass.Permanent, code: err.code, message: err.message } };
    }
    throw err;
  }
  const client = createImapClient(endpoint, resolved, auth, options.timeouts);
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    await client.connect();
    const status = await client.status('INBOX', { uidNext: true, uidValidity: true });
    if (!status || status.uidValidity === undefined || status.uidNext === undefined) {
      return {
        ok: false,
        error: {
          errorClass: ErrorClass.Permanent,
          code: 'unsupported_server',
          message: 'The server did not report UIDVALIDITY/UIDNEXT for INBOX',
        },
      };
    }
    return { ok: true, cursor: { uidValidity: Number(status.uidValidity), lastUid: Math.max(0, status.uidNext - 1) } };
  } catch (err) {
    return { ok: false, error: classifyImapError(err ?? lastError) };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export function isRetryableLoginError(error: ClassifiedError): boolean {
  return error.errorClass === ErrorClass.Transient || error.errorClass === ErrorClass.RateLimited;
}
