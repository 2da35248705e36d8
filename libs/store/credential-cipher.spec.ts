import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CredentialCipher, CredentialCipherError } from './credential-cipher';

const key = (version: string) => ({ version, key: randomBytes(32) });

describe('CredentialCipher', () => {
  it('round-trips and never stores the plaintext', () => {
    const cipher = new CredentialCipher([key('v1')]);
    const sealed = cipher.seal('hunter2-password', 'acc_1');
    assert.ok(!sealed.includes('hunter2'));
    assert.ok(sealed.startsWith('v1.'));
    assert.equal(cipher.open(sealed, 'acc_1'), 'hunter2-password');
  });

  it('uses a fresh IV each time', () => {
    const cipher = new CredentialCipher([key('v1')]);
    assert.notEqual(cipher.seal('same', 'a'), cipher.seal('same', 'a'));
  });

  it('refuses a blob bound to another owner or tampered with', () => {
    const cipher = new CredentialCipher([key('v1')]);
    const sealed = cipher.seal('secret', 'acc_1');
    assert.throws(() => cipher.open(sealed, 'acc_2'), CredentialCipherError);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3] ?? '', 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[3] = ct.toString('base64url');
    assert.throws(() => cipher.open(parts.join('.'), 'acc_1'), CredentialCipherError);
  });

  it('decrypts with an older key after rotation and seals with the newest', () => {
    const v1 = key('v1');
    const old = new CredentialCipher([v1]).seal('pw', 'acc');
    const rotated = new CredentialCipher([key('v2'), v1]);
    assert.equal(rotated.open(old, 'acc'), 'pw');
    assert.ok(rotated.needsRotation(old));
    assert.ok(rotated.seal('pw', 'acc').startsWith('v2.'));
    assert.throws(() => new CredentialCipher([key('v3')]).open(old, 'acc'), /v1 is not configured/);
  });
});
