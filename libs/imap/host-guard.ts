import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ErrorCode } from '@mailpush/errors';

export class HostNotAllowedError extends Error {
  override name = 'HostNotAllowedError';
  readonly code = ErrorCode.HostNotAllowed;
}

export class HostNotFoundError extends Error {
  override name = 'HostNotFoundError';
  readonly code = ErrorCode.HostNotFound;
}

/** Only globally routable unicast addresses are reachable unless the operator allows private hosts. */
function isPublic(address: string): boolean {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

export interface ResolvedHost {
  /** The address to connect to: pinned here so a second DNS answer cannot point somewhere else. */
  address: string;
  /** The name to verify the TLS certificate against. */
  servername?: string;
  /** Set only by resolveImapEndpoint when the operator allows cleartext IMAP. */
  cleartextAllowed?: true;
}

/**
 * Resolves a user-supplied IMAP host and refuses loopback, private, link-local and other
 * non-public addresses (SSRF into the operator's network) unless explicitly allowed. Every
 * address the name resolves to must pass, so a mixed answer cannot sneak a private one in.
 */
export async function resolveImapHost(host: string, allowPrivate: boolean): Promise<ResolvedHost> {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  let addresses: string[];
  if (isIP(literal)) {
    addresses = [literal];
  } else {
    try {
      addresses = (await lookup(literal, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new HostNotFoundError(`The host ${host} does not resolve`);
    }
  }
  const first = addresses[0];
  if (!first) throw new HostNotFoundError(`The host ${host} does not resolve`);
  if (!allowPrivate && !addresses.every(isPublic)) {
    throw new HostNotAllowedError(
      `The host ${host} is on a private, loopback or reserved network; the operator has not allowed such hosts`,
    );
  }
  return { address: first, ...(isIP(literal) ? {} : { servername: literal }) };
}
