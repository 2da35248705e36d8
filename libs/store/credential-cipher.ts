import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface MasterKey {
  version: string;
  key: Buffer;
}

export class CredentialCipherError extends Error {
  override name = 'CredentialCipherError';
}

/**
 * AES-256-GCM with a versioned master key. Sealed form: `<version>.<iv>.<tag>.<ciphertext>`
 * (base64url parts). The associated data binds a ciphertext to its owner (the account id), so a
 * blob copied onto another account does not decrypt.
 */
export class CredentialCipher {
  private readonly current: MasterKey;
  private readonly byVersion: Map<string, Buffer>;

  constructor(keys: MasterKey[]) {
    const first = keys[0];
    if (!first) throw new CredentialCipherError('no master key configured');
    this.current = first;
    this.byVersion = new Map(keys.map((k) => [k.version, k.key]));
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      this.current.version,
      iv.toString('base64url'),
      tag.toString('base64url'),
      ciphertext.toString('base64url'),
    ].join('.');
  }

  open(sealed: string, associatedData: string): string {
    const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (!version || !iv || !tag || ciphertext === undefined || rest.length > 0) {
      throw new CredentialCipherError('malformed sealed credential');
    }
    const key = this.byVersion.get(version);
    if (!key) throw new CredentialCipherError(`master key ${version} is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new CredentialCipherError('credential does not decrypt with its key (tampered or wrong key)');
    }
  }

  /** True when the blob was sealed with an older key version and should be re-sealed. */
  needsRotation(sealed: string): boolean {
    return !sealed.startsWith(`${this.current.version}.`);
  }
}
