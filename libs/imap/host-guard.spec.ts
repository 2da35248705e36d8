import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostNotAllowedError, HostNotFoundError, resolveImapHost } from './host-guard';

describe('resolveImapHost', () => {
  for (const host of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    'fd00::1',
    '0.0.0.0',
    '100.64.0.1',
    'localhost',
  ]) {
    it(`refuses ${host} by default`, async () => {
      await assert.rejects(resolveImapHost(host, false), HostNotAllowedError);
    });
  }

  it('allows private hosts when the operator says so', async () => {
    assert.deepEqual(await resolveImapHost('127.0.0.1', true), { address: '127.0.0.1' });
    const local = await resolveImapHost('localhost', true);
    assert.equal(local.servername, 'localhost');
  });

  it('accepts a public address literal', async () => {
    assert.deepEqual(await resolveImapHost('8.8.8.8', false), { address: '8.8.8.8' });
  });

  it('reports names that do not resolve', async () => {
    await assert.rejects(resolveImapHost('no-such-host.invalid', false), HostNotFoundError);
  });
});
