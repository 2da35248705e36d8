import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorClass } from '@mailpush/errors';
import { endpointRefusal, PortNotAllowedError, resolveImapEndpoint, type ImapEndpointPolicy } from './endpoint-policy';
import { createImapClient } from './imap-client.factory';

const policy = (over: Partial<ImapEndpointPolicy> = {}): ImapEndpointPolicy => ({
  allowPrivateHosts: true,
  allowedPorts: [993, 143],
  allowPlaintext: false,
  ...over,
});

describe('IMAP endpoint policy', () => {
  it('refuses a port outside the list before resolving anything', async () => {
    // An unresolvable name: reaching DNS would give host_not_found, not the port refusal.
    const err = await resolveImapEndpoint({ host: 'no-such-host.invalid', port: 22, tls: true }, policy()).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof PortNotAllowedError);
    assert.deepEqual(endpointRefusal(err), {
      errorClass: ErrorClass.Permanent,
      code: 'port_not_allowed',
      message: 'Port 22 is not allowed for IMAP on this relay (allowed: 993, 143)',
    });
  });

  it("allows any port with '*' and marks cleartext only when the operator allows it", async () => {
    const strict = await resolveImapEndpoint(
      { host: '127.0.0.1', port: 40_143, tls: false },
      policy({ allowedPorts: 'any' }),
    );
    assert.equal(strict.cleartextAllowed, undefined);
    const lax = await resolveImapEndpoint(
      { host: '127.0.0.1', port: 143, tls: false },
      policy({ allowPlaintext: true }),
    );
    assert.equal(lax.cleartextAllowed, true);
  });

  it('requires STARTTLS on a plain port unless cleartext is allowed', () => {
    const timeouts = { connectTimeoutMs: 1000, socketTimeoutMs: 1000 };
    const auth = { user: 'u', pass: 'p' };
    const plain = { host: '127.0.0.1', port: 143, tls: false };
    const required = createImapClient(plain, { address: '127.0.0.1' }, auth, timeouts);
    const optional = createImapClient(plain, { address: '127.0.0.1', cleartextAllowed: true }, auth, timeouts);
    const tls = createImapClient({ ...plain, port: 993, tls: true }, { address: '127.0.0.1' }, auth, timeouts);
    assert.equal(required.options.doSTARTTLS, true);
    assert.equal(optional.options.doSTARTTLS, undefined);
    assert.equal(tls.options.doSTARTTLS, undefined);
  });
});
