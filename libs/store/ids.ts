import { createHash, randomBytes } from 'node:crypto';

export type IdKind = 'usr' | 'dev' | 'acc';

/** Opaque ids: a kind prefix and 80 random bits; never an integer string, never a colon (BullMQ job ids). */
export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(10).toString('hex')}`;
}

export function isId(kind: IdKind, value: string): boolean {
  return new RegExp(`^${kind}_[0-9a-f]{20}$`).test(value);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
