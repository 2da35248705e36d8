import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewAccount } from '@mailpush/store';

/** A fresh APNs p8 key (P-256, PKCS#8 PEM) on disk, with its ids. */
export function makeApnsKey(): { keyFile: string; publicKeyPem: string; keyId: string; teamId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const dir = mkdtempSync(join(tmpdir(), 'mailpush-apns-'));
  const keyFile = join(dir, 'AuthKey.p8');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return {
    keyFile,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: 'ABC123DEFG',
    teamId: 'TEAM123456',
  };
}

export const makeApnsToken = (): string => randomBytes(32).toString('hex');
export const makeFcmToken = (): string =>
  `fcm_${randomBytes(24).toString('base64url')}:APA91b${randomBytes(40).toString('base64url')}`;
export const makeMasterKey = (version = 'v1'): string => `${version}:${randomBytes(32).toString('base64')}`;
export const makeAdminToken = (): string => randomBytes(24).toString('base64url');

let counter = 0;
export function makeMessage(overrides: { from?: string; subject?: string; body?: string } = {}) {
  counter += 1;
  return {
    from: overrides.from ?? `Sender ${counter} <sender${counter}@example.com>`,
    subject: overrides.subject ?? `Test message ${counter} ${randomBytes(4).toString('hex')}`,
    body: overrides.body ?? 'Hello from the test suite.',
  };
}

/** A password account as the repository takes it. */
export function makeNewAccount(overrides: Partial<NewAccount> = {}): NewAccount {
  return {
    email: 'person@example.com',
    imap: { host: 'imap.example.com', port: 993, tls: true },
    username: 'person@example.com',
    password: 'app-password',
    ...overrides,
  };
}
