import { classified, ErrorCode, type ClassifiedError } from '@mailpush/errors';
import type { ImapEndpoint } from '@mailpush/store';
import { HostNotAllowedError, HostNotFoundError, resolveImapHost, type ResolvedHost } from './host-guard';

/**
 * Where the relay may log in and how: the one rule every IMAP connection goes through (the login
 * check and the worker alike), so the relay is neither a port scanner nor a password downgrade.
 */
export interface ImapEndpointPolicy {
  allowPrivateHosts: boolean;
  /** Ports an account may name; 'any' only for test setups on high ports. */
  allowedPorts: readonly number[] | 'any';
  /** A `tls:false` account may stay in cleartext when the server offers no STARTTLS. */
  allowPlaintext: boolean;
}

export function imapEndpointPolicy(config: {
  allowPrivateHosts: boolean;
  imapPolicy: { allowedPorts: readonly number[] | 'any'; allowPlaintext: boolean };
}): ImapEndpointPolicy {
  return {
    allowPrivateHosts: config.allowPrivateHosts,
    allowedPorts: config.imapPolicy.allowedPorts,
    allowPlaintext: config.imapPolicy.allowPlaintext,
  };
}

export class PortNotAllowedError extends Error {
  override name = 'PortNotAllowedError';
  readonly code = ErrorCode.PortNotAllowed;
}

/** The port rule alone: no network involved. */
export function assertImapPortAllowed(endpoint: ImapEndpoint, policy: Pick<ImapEndpointPolicy, 'allowedPorts'>): void {
  const ports = policy.allowedPorts;
  if (ports !== 'any' && !ports.includes(endpoint.port)) {
    throw new PortNotAllowedError(
      `Port ${endpoint.port} is not allowed for IMAP on this relay (allowed: ${ports.join(', ')})`,
    );
  }
}

/**
 * Checks the port before anything touches the network, then resolves and pins the host (see
 * resolveImapHost). The result carries whether cleartext is allowed, which the client factory
 * reads: a connection can only be made from what this returns.
 */
export async function resolveImapEndpoint(endpoint: ImapEndpoint, policy: ImapEndpointPolicy): Promise<ResolvedHost> {
  assertImapPortAllowed(endpoint, policy);
  const resolved = await resolveImapHost(endpoint.host, policy.allowPrivateHosts);
  return policy.allowPlaintext ? { ...resolved, cleartextAllowed: true } : resolved;
}

/** A refusal by the policy as the error vocabulary says it (class included); undefined for anything else. */
export function endpointRefusal(err: unknown): ClassifiedError | undefined {
  if (err instanceof PortNotAllowedError || err instanceof HostNotAllowedError || err instanceof HostNotFoundError) {
    return classified(err.code, err.message);
  }
  return undefined;
}
