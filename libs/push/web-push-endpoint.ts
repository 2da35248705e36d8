import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { HOST_NOT_ALLOWED_CODE } from '@mailpush/errors';
import type { WebPushSubscription } from './push-notification';

/** Real push service URLs are ~200-600 characters; anything near this is not one. */
export const MAX_ENDPOINT_LENGTH = 2048;

export class EndpointNotAllowedError extends Error {
  override readonly name = 'EndpointNotAllowedError';
  readonly code = HOST_NOT_ALLOWED_CODE;
}

/** Only globally routable unicast addresses, unless the operator allows private hosts. */
function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

function hostOf(endpoint: string): string {
  const host = new URL(endpoint).hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Shape checks on a subscription: https endpoint of bounded length, keys of the sizes RFC 8291 needs. */
export function subscriptionProblem(sub: WebPushSubscription): string | undefined {
  if (sub.endpoint.length > MAX_ENDPOINT_LENGTH) return `endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(sub.endpoint);
  } catch {
    return 'endpoint is not a URL';
  }
  if (url.protocol !== 'https:') return 'endpoint must be an https URL';
  if (url.username || url.password) return 'endpoint must not carry credentials';
  const p256dh = Buffer.from(sub.keys.p256dh, 'base64url');
  if (p256dh.length !== 65 || p256dh[0] !== 0x04)
    return 'keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url)';
  if (Buffer.from(sub.keys.auth, 'base64url').length !== 16) return 'keys.auth must be 16 bytes, base64url';
  return undefined;
}

/**
 * Resolves the endpoint's host and refuses loopback, private, link-local and reserved addresses
 * (every address it resolves to), unless allowed: a subscription is user input, and the relay
 * would otherwise POST to the operator's internal network.
 */
export async function assertPublicEndpoint(endpoint: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(endpoint);
  const addresses = isIP(host)
    ? [host]
    : (await dnsLookupAsync(host, { all: true, verbatim: true })).map((a) => a.address);
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
    throw new EndpointNotAllowedError(`The push endpoint host ${host} is on a private, loopback or reserved network`);
  }
}

/** Same check for an IP literal in a URL, which never goes through DNS (so never through {@link guardedLookup}). */
export function literalHostAllowed(endpoint: string, allowPrivate: boolean): boolean {
  const host = hostOf(endpoint);
  return allowPrivate || !isIP(host) || isPublicAddress(host);
}

/**
 * A `lookup` for the push agent: checks the addresses the connection will really use, so a name
 * that resolved to a public address at registration cannot be re-pointed inside later (DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(
      hostname,
      options,
      (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
        if (err) return callback(err, address, family);
        const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
        if (!allowPrivate && !all.every(isPublicAddress)) {
          return callback(
            new EndpointNotAllowedError(`The push endpoint host ${hostname} resolves to a private address`),
            address,
            family,
          );
        }
        callback(null, address, family);
      },
    );
  };
}
