import { ErrorClass, classifyImapError, type ClassifiedError } from '@mailpush/errors';
import { createLogger } from '@mailpush/logging';
import type { ImapEndpoint, MailboxCursor } from '@mailpush/store';
import {
  assertImapPortAllowed,
  endpointRefusal,
  resolveImapEndpoint,
  type ImapEndpointPolicy,
} from './endpoint-policy';
import { createImapClient, type ImapAuth, type ImapTimeouts } from './imap-client.factory';

const log = createLogger('login-check');

export type LoginCheck = { ok: true; cursor: MailboxCursor } | { ok: false; error: ClassifiedError };

/** How a login the gate let through ended: `refused` = the server said the credentials are wrong. */
export type LoginOutcome = 'ok' | 'refused' | 'failed';

export type LoginAdmission =
  { admitted: true; finish(outcome: LoginOutcome): Promise<void> } | { admitted: false; error: ClassifiedError };

/**
 * Counts the logins the relay makes on someone's behalf (per user, per client address, per target
 * host) and says when there were too many: without it, linking is a password-guessing oracle
 * against any provider, and enough failures get the relay's own address blocked.
 */
export interface LoginGate {
  admit(host: string): Promise<LoginAdmission>;
}

export interface LoginCheckOptions {
  policy: ImapEndpointPolicy;
  timeouts: ImapTimeouts;
  gate: LoginGate;
}

/** Connect, TLS, greeting, login and STATUS together: one slow step may take the connect timeout, all of them twice that. */
const DEADLINE_FACTOR = 2;

class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}

/**
 * Logs in once, reads INBOX's UIDVALIDITY/UIDNEXT and logs out. The cursor it returns marks
 * "now": mail that arrives after linking is notified, history before it is not. The port rule,
 * then the gate, act before any lookup or connection; the whole check has one deadline.
 */
export async function verifyImapLogin(
  endpoint: ImapEndpoint,
  auth: ImapAuth,
  options: LoginCheckOptions,
): Promise<LoginCheck> {
  try {
    assertImapPortAllowed(endpoint, options.policy);
  } catch (err) {
    const refusal = endpointRefusal(err);
    if (!refusal) throw err;
    return { ok: false, error: refusal };
  }
  // Before DNS: a name lookup of the caller's choosing is a probe too.
  const admission = await options.gate.admit(endpoint.host);
  if (!admission.admitted) return { ok: false, error: admission.error };
  let resolved;
  try {
    resolved = await resolveImapEndpoint(endpoint, options.policy);
  } catch (err) {
    const refusal = endpointRefusal(err);
    await admission.finish('failed').catch(() => undefined);
    if (!refusal) throw err;
    return { ok: false, error: { ...refusal, errorClass: ErrorClass.Permanent } };
  }

  const client = createImapClient(endpoint, resolved, auth, options.timeouts);
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineExceeded('login check deadline')),
      options.timeouts.connectTimeoutMs * DEADLINE_FACTOR,
    );
  });
  let check: LoginCheck;
  try {
    const status = await Promise.race([
      client.connect().then(() => client.status('INBOX', { uidNext: true, uidValidity: true })),
      deadline,
    ]);
    check =
      !status || status.uidValidity === undefined || status.uidNext === undefined
        ? {
            ok: false,
            error: {
              errorClass: ErrorClass.Permanent,
              code: 'unsupported_server',
              message: 'The server did not report UIDVALIDITY/UIDNEXT for INBOX',
            },
          }
        : { ok: true, cursor: { uidValidity: Number(status.uidValidity), lastUid: Math.max(0, status.uidNext - 1) } };
  } catch (err) {
    const cause = err instanceof DeadlineExceeded ? err : (err ?? lastError);
    check = {
      ok: false,
      error:
        cause instanceof DeadlineExceeded
          ? {
              errorClass: ErrorClass.Transient,
              code: 'timeout',
              message: 'The mail server did not complete the login in time',
            }
          : classifyImapError(cause),
    };
    // The raw socket/TLS code is for the operator's log, never for the caller.
    log.info('the mailbox refused or failed the login', { code: check.error.code, cause: rawCode(cause) });
  } finally {
    clearTimeout(timer);
    if (client.usable) await client.logout().catch(() => client.close());
    else client.close();
  }
  await admission
    .finish(check.ok ? 'ok' : check.error.errorClass === ErrorClass.Auth ? 'refused' : 'failed')
    .catch((err: unknown) => log.warn('could not record the login outcome', { err }));
  return check;
}

function rawCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code.slice(0, 64) : err instanceof Error ? err.name : undefined;
}

export function isRetryableLoginError(error: ClassifiedError): boolean {
  return error.errorClass === ErrorClass.Transient || error.errorClass === ErrorClass.RateLimited;
}
